"""`iprwatch import FILE`: send a registry's CSV or NDJSON export to the ingest API in batches.

The service validates every row exactly as it validates any request. Rows it refuses (422,
403) are written, with the reasons, to the rejected file, and the rest of their batch is sent
again; while Kafka is unavailable (503) a batch is retried after `Retry-After`. Re-running an
import is safe: the fold counts an event once by (`source`, `id`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.ingest.adapters.tokens import client_token
from services.ingest.domain.binding import BATCH
from services.ingest.domain.rows import Row, csv_rows, ndjson_rows

MAX_BATCH = 10_000
UNAVAILABLE_RETRIES = 20
console = Console(stderr=True)


class ImportAborted(Exception):
    """The import cannot go on (no token, refused token, service unreachable)."""


@dataclass
class Summary:
    accepted: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected,
                "reasons": dict(self.reasons.most_common())}  # fmt: skip


class Importer:
    def __init__(self, client: httpx.Client, url: str, token: str, rejected: TextIO) -> None:
        self.client = client
        self.url = url.rstrip("/") + "/v1/events"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": BATCH}
        self.rejected = rejected
        self.summary = Summary()

    def reject(self, row: Row, problems: list[str], reason: str) -> None:
        self.summary.rejected += 1
        self.summary.reasons[reason] += 1
        entry = {"line": row.line, "row": row.text, "problems": problems}
        self.rejected.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def send(self, rows: list[Row]) -> None:
        """Send one batch; drop refused rows (recorded) and send the rest until Kafka has it."""
        pending = rows
        unavailable = 0
        while pending:
            body = json.dumps([r.event for r in pending], ensure_ascii=False).encode()
            try:
                response = self.client.post(self.url, content=body, headers=self.headers)
            except httpx.TransportError as exc:
                unavailable = self._wait(unavailable, 2.0, f"ingest unreachable ({exc})")
                continue
            status = response.status_code
            if status == 202:
                self.summary.accepted += len(pending)
                return
            if status == 503:
                retry = float(response.headers.get("retry-after", "2") or 2)
                unavailable = self._wait(unavailable, retry, "Kafka unavailable")
                continue
            detail = _detail(response)
            if status == 401:
                raise ImportAborted(f"the service refused the token: {detail}")
            if status in (403, 422) and isinstance(detail.get("errors"), list):
                pending = self._drop_refused(pending, detail["errors"], status)
                continue
            if status == 413:
                raise ImportAborted(f"{detail.get('detail')}: use a smaller --batch")
            for row in pending:
                self.reject(row, [str(detail.get("detail", detail))], f"http_{status}")
            return

    def _drop_refused(self, rows: list[Row], errors: list[Any], status: int) -> list[Row]:
        problems: dict[int, list[str]] = {}
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                problems.setdefault(error["index"], []).append(
                    f"{error.get('field')}: {error.get('problem')}"
                )
        reason = "forbidden" if status == 403 else "invalid"
        if not problems:  # nothing to single out: the whole batch is refused
            problems = {i: ["refused without a per-event reason"] for i in range(len(rows))}
        for index, messages in problems.items():
            if 0 <= index < len(rows):
                self.reject(rows[index], messages, reason)
        return [row for i, row in enumerate(rows) if i not in problems]

    def _wait(self, tries: int, seconds: float, why: str) -> int:
        if tries >= UNAVAILABLE_RETRIES:
            raise ImportAborted(f"{why}; gave up after {tries} tries (a re-run is safe)")
        console.print(f"[yellow]{why}: retrying in {seconds:g}s[/yellow]", highlight=False)
        time.sleep(min(seconds, 30.0))
        return tries + 1


def _detail(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return body if isinstance(body, dict) else {"detail": body}


def _rows(path: Path, kind: str) -> Iterator[Row]:
    with path.open(newline="" if kind == "csv" else None, encoding="utf-8-sig") as stream:
        yield from (csv_rows(stream) if kind == "csv" else ndjson_rows(stream))


def _kind(path: Path, given: str | None) -> str:
    if given:
        return given
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    raise ImportAborted(f"cannot tell the format of {path.name}: pass --format csv|ndjson")


def import_file(
    path: Path, url: str, token: str, batch: int, rejected_path: Path, kind: str | None = None
) -> Summary:
    """Send every row of `path`; return what the service accepted and what it refused."""
    if not 1 <= batch <= MAX_BATCH:
        raise ImportAborted(f"--batch must be between 1 and {MAX_BATCH}")
    fmt = _kind(path, kind)
    with path.open("rb") as counting:
        total = max(sum(1 for _ in counting) - (1 if fmt == "csv" else 0), 0)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("accepted {task.fields[accepted]} rejected {task.fields[rejected]}"),
               TimeRemainingColumn())  # fmt: skip
    with (
        rejected_path.open("w", encoding="utf-8") as rejected,
        httpx.Client(timeout=60) as client,
        Progress(*columns, console=console, transient=False) as progress,
    ):
        importer = Importer(client, url, token, rejected)
        task = progress.add_task(f"importing {path.name}", total=total, accepted=0, rejected=0)
        chunk: list[Row] = []

        def flush() -> None:
            importer.send(chunk)
            progress.update(task, advance=len(chunk), accepted=importer.summary.accepted,
                            rejected=importer.summary.rejected)  # fmt: skip
            chunk.clear()

        for row in _rows(path, fmt):
            if row.event is None:
                importer.reject(row, [row.problem or "unreadable row"], "unreadable")
                progress.update(task, advance=1, rejected=importer.summary.rejected)
                continue
            chunk.append(row)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
    return importer.summary


def run_import(args: argparse.Namespace) -> int:
    """The CLI: 0 if every row was accepted, 2 if some were rejected, 1 if the import stopped."""
    path: Path = args.file
    rejected_path: Path = args.rejected or path.with_name(path.name + ".rejected.ndjson")
    token = client_token(args.token)
    try:
        if not path.is_file():
            raise ImportAborted(f"no such file: {path}")
        if token is None:
            raise ImportAborted(
                "no token: pass --token, set IPRWATCH_TOKEN, or create one with "
                "`iprwatch tokens add NAME --source ... --type ...`"
            )
        summary = import_file(path, args.url, token, args.batch, rejected_path, args.format)
    except ImportAborted as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    sys.stdout.write(json.dumps({**summary.to_json(), "rejected_file": str(rejected_path)}) + "\n")
    if summary.rejected:
        console.print(f"{summary.rejected} row(s) rejected, with reasons, in {rejected_path}")
        return 2
    rejected_path.unlink(missing_ok=True)
    return 0
