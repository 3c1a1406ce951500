"""An export's rows through a mapping: events to send, a rejection with its reason, or nothing
(skipped). Addresses are resolved a chunk at a time (the `AddressLookup` port is fast on many)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from services.ingest.domain.cells import cell_text
from services.ingest.domain.mapper import Mapper, RowProblem
from services.ingest.service.ports import AddressLookup, TableRow
from services.ingest.service.sending import Pending, Sender


class MappedRows:
    """`addresses` makes the resolver when a row first needs one (it is slow to start)."""

    def __init__(self, mapper: Mapper, sender: Sender, addresses: Callable[[], AddressLookup]):
        self.mapper = mapper
        self.sender = sender
        self.make_resolver = addresses
        self.resolver: AddressLookup | None = None

    def _resolver(self) -> AddressLookup:
        if self.resolver is None:
            self.resolver = self.make_resolver()
        return self.resolver

    def events(self, chunk: list[TableRow]) -> Iterator[Pending]:
        summary = self.sender.summary
        known: list[tuple[TableRow, str, str | None, str]] = []
        addresses: list[str] = []
        for row in chunk:
            text = json.dumps(row.cells, ensure_ascii=False, default=cell_text)
            if row.problem:
                self.sender.reject(row.line, text, [row.problem], "unreadable")
                continue
            try:
                given = self.mapper.district_input(row.cells)
                code = self.mapper.known_district(given)
            except RowProblem as exc:
                self.sender.reject(row.line, text, [exc.problem], exc.reason)
                continue
            if code is None:
                addresses.append(given.address)
            known.append((row, text, code, given.address))
        resolved = self._resolver().resolve_many(addresses) if addresses else {}
        for row, text, given_code, address in known:
            code = given_code
            if code is None:
                answer = resolved[address]
                if answer.code is None:
                    self.sender.reject(row.line, text, [answer.problem or ""],
                                       answer.reason or "address_not_found")  # fmt: skip
                    continue
                code = answer.code
            try:
                events = self.mapper.events(row.cells, code)
            except RowProblem as exc:
                self.sender.reject(row.line, text, [exc.problem], exc.reason)
                continue
            if not events:
                summary.skipped += 1
            for event in events:
                yield Pending(row.line, text, event)


def chunks(rows: Iterable[TableRow], size: int) -> Iterator[list[TableRow]]:
    chunk: list[TableRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
