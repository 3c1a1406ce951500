"""A simulation run with a progress bar on the terminal (rich)."""

from __future__ import annotations

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

from iprwatch.simulator.client import SendOptions
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.runner import Outcome, simulate
from shared.plan import Plan


async def simulate_with_progress(
    plan: Plan, scenario: Scenario, options: SendOptions, truth_file: Path
) -> Outcome:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task: TaskID = progress.add_task(
            f"sending {scenario.first_month:%Y-%m}..{scenario.last_month:%Y-%m} to {options.url}",
            total=None,
        )
        return await simulate(
            plan,
            scenario,
            options,
            truth_file,
            on_count=lambda n: progress.update(task, total=n),
            on_sent=lambda n: progress.advance(task, n),
        )
