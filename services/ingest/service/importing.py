"""`iprwatch import`'s use case: an export's rows, in batches, to the ingest API.

Two kinds of file:

- with a mapping (`deploy/imports/NAME.yaml`): what offices really have, an export of a patent
  or trademark search system or a statistics sheet, turned into contract events row by row; a
  holder's address is resolved to the plan's county-level division when the row has no code;
- without: a file that is already CloudEvents (CSV columns `id, source, type, subject, time,
  data.district, ...`, or NDJSON events).

Rows are streamed, never loaded whole. The service validates every event as it validates any
request; rows the mapping or the address resolution cannot use, and events the service refuses
(422, 403), go with their reasons to the rejected file, and the rest of a batch is sent again.
429/503 and connection errors are retried by the shared ingest client. A dry run validates
locally against the contract and the plan (no token scopes) and sends nothing.

A re-run is harmless rather than resumed: the ids are deterministic (a UUID 5 of type, subject
and date), so every event of a re-run is a duplicate of what the service already has, and the
fold counts an act once by (`source`, `id`) and by (`type`, `subject`). Nothing is skipped on
the client side: the events are published again and dropped by the fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.ingest.domain.mapper import Mapper
from services.ingest.domain.mapping import ImportMapping
from services.ingest.service.mapped_rows import MappedRows, chunks
from services.ingest.service.ports import AddressLookup, ExportFile, ImportProgress
from services.ingest.service.sending import ImportAborted, Pending, Sender
from shared.plan import Plan

MAX_BATCH = 10_000
CHUNK = 2_000  # rows mapped (and addresses resolved) at a time


@dataclass(frozen=True)
class ImportOptions:
    path: Path
    url: str
    token: str | None  # None: $IPRWATCH_TOKEN, else the local stack's simulator.token
    rejected_path: Path
    batch: int = 1000
    kind: str | None = None
    mapping: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    dry_run: bool = False
    rate: float | None = None  # events per second
    plan_file: Path | None = None
    progress: bool = True


def check_options(options: ImportOptions) -> None:
    """Refuse what no import can run with: a batch size out of range, a rate that is not
    positive."""
    if not 1 <= options.batch <= MAX_BATCH:
        raise ImportAborted(f"--batch must be between 1 and {MAX_BATCH}")
    if options.rate is not None and options.rate <= 0:
        raise ImportAborted("--rate must be a positive number of events per second")


class Batches:
    """Pending events gathered into batches of `size`, each sent when full."""

    def __init__(self, sender: Sender, size: int) -> None:
        self.sender = sender
        self.size = size
        self.batch: list[Pending] = []

    async def add(self, item: Pending) -> None:
        self.batch.append(item)
        if len(self.batch) >= self.size:
            await self.flush()

    async def flush(self) -> None:
        if self.batch:
            await self.sender.send(self.batch)
            self.batch = []


async def import_rows(
    file: ExportFile,
    plan: Plan,
    mapping: ImportMapping | None,
    sender: Sender,
    batch: int,
    addresses: Callable[[], AddressLookup],
    progress: ImportProgress,
) -> None:
    """Send (or validate) every row of `file`; the counts are in `sender.summary`."""
    summary = sender.summary
    batches = Batches(sender, batch)

    def advance(rows: int) -> None:
        summary.rows += rows
        progress.advance(rows, summary.accepted, summary.rejected, summary.skipped)

    if mapping is None:
        for row in file.events():
            if row.event is None:
                sender.reject(row.line, row.text, [row.problem or "unreadable row"], "unreadable")
            else:
                await batches.add(Pending(row.line, row.text, row.event))
            advance(1)
    else:
        names = {d.name_zh: d.code for d in plan.districts}
        mapped = MappedRows(Mapper(mapping, names), sender, addresses)
        for header, rows in file.tables():
            missing = mapping.missing_columns(header) if file.format != "ndjson" else []
            if missing:
                raise ImportAborted(
                    f"{file.name} does not fit mapping {mapping.name!r}: no column "
                    f"{'; no column '.join(missing)} (its header: "
                    f"{', '.join(h for h in header if h)})"
                )
            for chunk in chunks(rows, CHUNK):
                for item in mapped.events(chunk):
                    await batches.add(item)
                advance(len(chunk))
    await batches.flush()
    advance(0)
