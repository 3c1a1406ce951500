"""`iprwatch import FILE`: send an office's export to the ingest API in batches.

Two kinds of file:

- with `--mapping NAME` (`deploy/imports/NAME.yaml`): what offices really have, an export of a
  patent or trademark search system or a statistics sheet (Excel `.xlsx`, CSV in UTF-8 or
  GB18030, or NDJSON objects), turned into contract events row by row; a holder's address is
  resolved to the plan's county-level division when the row has no code;
- without: a file that is already CloudEvents (CSV columns `id, source, type, subject, time,
  data.district, ...`, or NDJSON events).

Rows are streamed, never loaded whole. The service validates every event as it validates any
request; rows the mapping or the address resolution cannot use, and events the service refuses
(422, 403), go with their reasons to the rejected file, and the rest of a batch is sent again.
429/503 and connection errors are retried by the shared ingest client. `--dry-run` validates
locally against the contract and the plan (no token scopes) and sends nothing.

A re-run is harmless rather than resumed: the ids are deterministic (a UUID 5 of type, subject
and date), so every event of a re-run is a duplicate of what the service already has, and the
fold counts an act once by (`source`, `id`) and by (`type`, `subject`). Nothing is skipped on
the client side: the events are published again and dropped by the fold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.ingest.adapters.addresses import AddressResolver
from services.ingest.adapters.readers import (
    ReadError,
    TableRow,
    count_rows,
    file_format,
    open_text,
    table_rows,
)
from services.ingest.adapters.tokens import client_token
from services.ingest.domain.mapping import (
    ImportMapping,
    Mapper,
    MappingError,
    RowProblem,
    cell_text,
    load_mapping,
)
from services.ingest.domain.rows import Row, csv_rows, ndjson_rows
from services.ingest.domain.validation import InvalidEvents, validate_events
from shared.ingest_client import IngestClient, IngestUnavailable, Sleep
from shared.plan import Plan, PlanError, default_plan_path, load_plan

MAX_BATCH = 10_000
CHUNK = 2_000  # rows mapped (and addresses resolved) at a time
IMPORTS_DIR = Path(__file__).resolve().parents[3] / "deploy" / "imports"
SPANNING_AREAS = "areas.yaml"
console = Console(stderr=True)


class ImportAborted(Exception):
    """The import cannot go on (no token, refused token, bad mapping, service unreachable)."""


@dataclass(frozen=True)
class Pending:
    """An event waiting to be sent, with the row it came from (for the rejected file)."""

    line: int
    text: str
    event: dict[str, Any]


@dataclass
class Summary:
    dry_run: bool = False
    rows: int = 0
    accepted: int = 0  # events the service took (a dry run: events that passed validation)
    rejected: int = 0
    skipped: int = 0  # rows that make no event (e.g. a legal status the system does not count)
    reasons: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, ("valid" if self.dry_run else "accepted"): self.accepted,
                "rejected": self.rejected, "skipped": self.skipped,
                "reasons": dict(self.reasons.most_common())}  # fmt: skip


@dataclass(frozen=True)
class ImportOptions:
    path: Path
    url: str
    token: str | None
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


class Sender:
    """Sends batches through the shared client (or validates them locally in a dry run)."""

    def __init__(
        self, client: IngestClient | None, plan: Plan, summary: Summary, rejected: TextIO,
        rate: float | None, sleep: Sleep = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.sleep = sleep
        self.client = client
        self.codes = plan.district_codes
        self.summary = summary
        self.rejected = rejected
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    def reject(self, line: int, text: str, problems: list[str], reason: str) -> None:
        self.summary.rejected += 1
        self.summary.reasons[reason] += 1
        entry = {"line": line, "row": text, "reason": reason, "problems": problems}
        self.rejected.write(json.dumps(entry, ensure_ascii=False) + "\n")

    async def send(self, pending: list[Pending]) -> None:
        if self.client is None:
            self._validate(pending)
            return
        while pending:
            await self._pace(len(pending))
            try:
                response = await self.client.post_events([p.event for p in pending])
            except IngestUnavailable as exc:
                raise ImportAborted(f"{exc} (a re-run is safe)") from None
            status = response.status_code
            if status == 202:
                self.summary.accepted += len(pending)
                return
            detail = _detail(response)
            if status == 401:
                raise ImportAborted(f"the service refused the token: {detail}")
            if status in (403, 422) and isinstance(detail.get("errors"), list):
                pending = self._drop_refused(pending, detail["errors"], status)
                continue
            if status == 413:
                raise ImportAborted(f"{detail.get('detail')}: use a smaller --batch")
            for item in pending:
                self.reject(item.line, item.text, [str(detail.get("detail", detail))],
                            f"http_{status}")  # fmt: skip
            return

    def _validate(self, pending: list[Pending]) -> None:
        try:
            validate_events([p.event for p in pending], self.codes, datetime.now(UTC))
        except InvalidEvents as exc:
            errors = [p.to_json() for p in exc.problems]
            rest = self._drop_refused(pending, errors, 422)
            self.summary.accepted += len(rest)
            return
        self.summary.accepted += len(pending)

    async def _pace(self, events: int) -> None:
        if self.rate:
            ahead = self.started + self.sent / self.rate - time.monotonic()
            if ahead > 0:
                await self.sleep(ahead)
        self.sent += events

    def _drop_refused(self, items: list[Pending], errors: list[Any], status: int) -> list[Pending]:
        problems: dict[int, list[str]] = {}
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                problems.setdefault(error["index"], []).append(
                    f"{error.get('field')}: {error.get('problem')}"
                )
        reason = "forbidden" if status == 403 else "invalid"
        if not problems:  # nothing to single out: the whole batch is refused
            problems = {i: ["refused without a per-event reason"] for i in range(len(items))}
        for index, messages in problems.items():
            if 0 <= index < len(items):
                self.reject(items[index].line, items[index].text, messages, reason)
        return [item for i, item in enumerate(items) if i not in problems]


def _detail(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return body if isinstance(body, dict) else {"detail": body}


# --- mappings and rows --------------------------------------------------------------------------


def mapping_names() -> list[str]:
    return sorted(p.stem for p in IMPORTS_DIR.glob("*.yaml") if p.name != SPANNING_AREAS)


def find_mapping(name: str) -> ImportMapping:
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = IMPORTS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ImportAborted(f"no mapping {name!r}; shipped: {', '.join(mapping_names())} "
                            "(or give the path of a .yaml file)")  # fmt: skip
    try:
        return load_mapping(path)
    except MappingError as exc:
        raise ImportAborted(str(exc)) from None


def spanning_areas(plan: Plan, file: Path = IMPORTS_DIR / SPANNING_AREAS) -> dict[str, list[str]]:
    """Areas that span several divisions (development zones), for the plan's area."""
    if not file.is_file():
        return {}
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        areas = raw.get(plan.city.code) or {}
        return {str(k): [str(c) for c in v["divisions"]] for k, v in areas.items()}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        raise ImportAborted(
            f"{file}: needs {{area code: {{name: {{divisions: [codes]}}}}}}: {exc}"
        ) from None


class MappedRows:
    """Rows through a mapping: events to send, or a rejection, or nothing (skipped)."""

    def __init__(self, mapping: ImportMapping, plan: Plan, sender: Sender) -> None:
        self.mapper = Mapper(mapping, {d.name_zh: d.code for d in plan.districts})
        self.plan = plan
        self.sender = sender
        self.resolver: AddressResolver | None = None

    def _resolver(self) -> AddressResolver:
        if self.resolver is None:
            self.resolver = AddressResolver(
                {d.code: d.name_zh for d in self.plan.districts}, self.plan.city.code,
                self.plan.city.name_zh, spanning_areas(self.plan),
            )  # fmt: skip
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


def _chunks(rows: Iterable[TableRow], size: int) -> Iterator[list[TableRow]]:
    chunk: list[TableRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _cloudevent_rows(path: Path, fmt: str, encoding: str | None) -> Iterator[Row]:
    if fmt == "xlsx":
        raise ImportAborted("an Excel file needs a mapping: pass --mapping NAME "
                            f"(shipped: {', '.join(mapping_names())})")  # fmt: skip
    with open_text(path, encoding) as stream:
        yield from (csv_rows(stream) if fmt == "csv" else ndjson_rows(stream))


# --- the run ------------------------------------------------------------------------------------


async def import_file(options: ImportOptions) -> Summary:
    """Send (or, in a dry run, validate) every row of the file; return the summary."""
    if not 1 <= options.batch <= MAX_BATCH:
        raise ImportAborted(f"--batch must be between 1 and {MAX_BATCH}")
    try:
        plan = load_plan(options.plan_file or default_plan_path())
    except PlanError as exc:
        raise ImportAborted(str(exc)) from None
    mapping = find_mapping(options.mapping) if options.mapping else None
    try:
        fmt = file_format(options.path, options.kind)
        total = count_rows(options.path, fmt, options.sheet) if options.progress else None
    except ReadError as exc:
        raise ImportAborted(str(exc)) from None
    summary = Summary(dry_run=options.dry_run)
    client = None
    if not options.dry_run:
        client = IngestClient(options.url, options.token, timeout=60, on_retry=_say_retry)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("accepted {task.fields[accepted]} rejected {task.fields[rejected]} "
                          "skipped {task.fields[skipped]}"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    verb = "checking" if options.dry_run else "importing"
    try:
        with (
            options.rejected_path.open("w", encoding="utf-8") as rejected,
            Progress(*columns, console=console, disable=not options.progress) as progress,
        ):
            task = progress.add_task(f"{verb} {options.path.name}", total=total, accepted=0,
                                     rejected=0, skipped=0)  # fmt: skip
            sender = Sender(client, plan, summary, rejected, options.rate)
            batch: list[Pending] = []

            async def flush() -> None:
                await sender.send(batch)
                batch.clear()

            def advance(rows: int) -> None:
                summary.rows += rows
                progress.update(task, advance=rows, accepted=summary.accepted,
                                rejected=summary.rejected, skipped=summary.skipped)  # fmt: skip

            if mapping is None:
                for row in _cloudevent_rows(options.path, fmt, options.encoding):
                    if row.event is None:
                        sender.reject(row.line, row.text, [row.problem or "unreadable row"],
                                      "unreadable")  # fmt: skip
                    else:
                        batch.append(Pending(row.line, row.text, row.event))
                        if len(batch) >= options.batch:
                            await flush()
                    advance(1)
            else:
                mapped = MappedRows(mapping, plan, sender)
                for header, rows in table_rows(options.path, fmt, options.sheet, options.encoding):
                    missing = mapping.missing_columns(header) if fmt != "ndjson" else []
                    if missing:
                        raise ImportAborted(
                            f"{options.path.name} does not fit mapping {mapping.name!r}: no "
                            f"column {'; no column '.join(missing)} (its header: "
                            f"{', '.join(h for h in header if h)})"
                        )
                    for chunk in _chunks(rows, CHUNK):
                        for item in mapped.events(chunk):
                            batch.append(item)
                            if len(batch) >= options.batch:
                                await flush()
                        advance(len(chunk))
            if batch:
                await flush()
            progress.update(task, accepted=summary.accepted, rejected=summary.rejected)
    except ReadError as exc:
        raise ImportAborted(str(exc)) from None
    finally:
        if client is not None:
            await client.aclose()
    return summary


def _say_retry(why: str, seconds: float) -> None:
    console.print(f"[yellow]ingest: {why}: retrying in {seconds:g}s[/yellow]", highlight=False)


def run_import(args: argparse.Namespace) -> int:
    """The CLI: 0 if no row was rejected, 2 if some were, 1 if the import stopped."""
    path: Path = args.file
    rejected_path: Path = args.rejected or path.with_name(path.name + ".rejected.ndjson")
    token = client_token(args.token)
    options = ImportOptions(
        path=path, url=args.url, token=token, rejected_path=rejected_path, batch=args.batch,
        kind=args.format, mapping=args.mapping, sheet=args.sheet, encoding=args.encoding,
        dry_run=args.dry_run, rate=args.rate, plan_file=args.plan,
        progress=not args.no_progress,
    )  # fmt: skip
    try:
        if not path.is_file():
            raise ImportAborted(f"no such file: {path}")
        if token is None and not args.dry_run:
            raise ImportAborted(
                "no token: pass --token, set IPRWATCH_TOKEN, or create one with "
                "`iprwatch tokens add NAME --source ... --type ...` (or use --dry-run)"
            )
        if args.rate is not None and args.rate <= 0:
            raise ImportAborted("--rate must be a positive number of events per second")
        summary = asyncio.run(import_file(options))
    except ImportAborted as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    sys.stdout.write(json.dumps({**summary.to_json(), "rejected_file": str(rejected_path)},
                                ensure_ascii=False) + "\n")  # fmt: skip
    if summary.rejected:
        console.print(f"{summary.rejected} row(s) rejected, with reasons, in {rejected_path}")
        return 2
    rejected_path.unlink(missing_ok=True)
    return 0
