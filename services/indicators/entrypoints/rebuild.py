"""`iprwatch indicators rebuild` with a progress bar (the work is `bootstrap.rebuild`'s)."""

from __future__ import annotations

import uvloop

from services.indicators.bootstrap.rebuild import Rebuilt, rebuild
from services.indicators.settings import IndicatorsSettings


def run_with_progress_bar(settings: IndicatorsSettings) -> Rebuilt:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]rebuilding[/bold] {task.completed:,}/{task.total:,} records"),
        BarColumn(), TimeRemainingColumn(), transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("rebuild", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return uvloop.run(rebuild(settings, advance))  # the loop the service runs on
