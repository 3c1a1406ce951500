"""One simulation run: generate, write the ground truth, send; shared by the CLI, demo and tests.

The stream is generated twice (it is deterministic): once to count it and fold the ground
truth, once to send it, so that memory stays flat whatever the scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from iprwatch.simulator.client import SendOptions, SendReport, send
from iprwatch.simulator.generator import generate
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.truth import GroundTruth, write_truth
from shared.months import months
from shared.plan import Plan
from shared.plans import load_plans


def yesterday(plan: Plan, now: datetime | None = None) -> date:
    """The last full day in the plan's time zone: no act may be dated in the future."""
    return (now or datetime.now(plan.zone)).astimezone(plan.zone).date() - timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    truth: dict[str, Any]
    sent: SendReport
    events: int


def count_and_truth(plan: Plan, scenario: Scenario, truth_file: Path) -> tuple[int, dict[str, Any]]:
    """Fold the ground truth of the stream and write it; return (events, truth document)."""
    truth = GroundTruth(plan)
    for event in generate(plan, scenario, statistics_plans(scenario)):
        truth.add(event)
    window = [
        m for m in months(scenario.first_month, scenario.last_month) if m <= _last_day(scenario)
    ]
    described = {
        **asdict(scenario),
        "first_month": f"{scenario.first_month:%Y-%m}",
        "last_month": f"{scenario.last_month:%Y-%m}",
        "until": scenario.until.isoformat() if scenario.until else None,
        "lagging": sorted(scenario.lagging),
    }
    document = write_truth(truth_file, truth, window, described)
    return truth.tally.events, document


async def simulate(
    plan: Plan,
    scenario: Scenario,
    options: SendOptions,
    truth_file: Path,
    on_count: Callable[[int], None] | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> Outcome:
    events, document = count_and_truth(plan, scenario, truth_file)
    if on_count is not None:
        on_count(events)
    stream = generate(plan, scenario, statistics_plans(scenario))
    report = await send(stream, options, on_sent=on_sent)
    return Outcome(document, report, events)


def statistics_plans(scenario: Scenario) -> tuple[Plan, ...]:
    """The plans whose `reported` indicators the run reports: the loaded plans, if asked for."""
    return tuple(load_plans()) if scenario.statistics else ()


def _last_day(scenario: Scenario) -> date:
    return scenario.until or date.max
