"""`iprwatch import FILE`: the command line of an import (`service.importing` is what it does).

Parses the arguments, shows a progress bar, prints the summary as JSON; exit 0 if no row was
rejected, 2 if some were (they are in the rejected file, with reasons), 1 if the import stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.ingest.bootstrap import import_file
from services.ingest.service.importing import ImportOptions
from services.ingest.service.sending import ImportAborted, Summary

console = Console(stderr=True)


class ProgressBar:
    """The import's progress on the terminal (the `ImportProgress` port)."""

    def __init__(self, enabled: bool) -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("accepted {task.fields[accepted]} rejected {task.fields[rejected]} "
                              "skipped {task.fields[skipped]}"),
                   TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
        self.bar = Progress(*columns, console=console, disable=not enabled)
        self.task: TaskID | None = None

    def start(self, description: str, total: int | None) -> None:
        self.bar.start()
        self.task = self.bar.add_task(description, total=total, accepted=0, rejected=0, skipped=0)

    def advance(self, rows: int, accepted: int, rejected: int, skipped: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=rows, accepted=accepted, rejected=rejected,
                            skipped=skipped)  # fmt: skip

    def stop(self) -> None:
        self.bar.stop()


def _say_retry(why: str, seconds: float) -> None:
    console.print(f"[yellow]ingest: {why}: retrying in {seconds:g}s[/yellow]", highlight=False)


async def _run(options: ImportOptions) -> Summary:
    bar = ProgressBar(options.progress)
    try:
        return await import_file(options, bar, on_retry=_say_retry)
    finally:
        bar.stop()


def run_import(args: argparse.Namespace) -> int:
    """The CLI: 0 if no row was rejected, 2 if some were, 1 if the import stopped."""
    path: Path = args.file
    rejected_path: Path = args.rejected or path.with_name(path.name + ".rejected.ndjson")
    options = ImportOptions(
        path=path, url=args.url, token=args.token, rejected_path=rejected_path, batch=args.batch,
        kind=args.format, mapping=args.mapping, sheet=args.sheet, encoding=args.encoding,
        dry_run=args.dry_run, rate=args.rate, plan_file=args.plan,
        progress=not args.no_progress,
    )  # fmt: skip
    try:
        summary = asyncio.run(_run(options))
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
