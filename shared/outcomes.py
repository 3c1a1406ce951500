"""The outcome of an ended plan, per (division, indicator): did it reach its target?

Judged on the value at the target date (`shared.status.value_at_target`): for a counted
indicator the target date's month's value, for a yearly one (`annual`, `reported`) the target
year's value, never a later partial year. `achieved` when that value reaches the target
(value ≥ target; the path's tolerance is for alarms on the way, not for the result), `missed`
with the shortfall (target − value), `no_target` without a published target, `no_data` with no
value for the target date. Events that arrive late for the plan period change the series, and
so the outcome. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from shared.plan import Plan
from shared.status import PERIODIC_KINDS, Series, value_at_target

__all__ = ["Outcome", "OutcomeKind", "outcome", "outcomes", "plan_keys", "targeted_keys"]

OutcomeKind = Literal["achieved", "missed", "no_target", "no_data"]


@dataclass(frozen=True)
class Outcome:
    """`period`: what the value stands for, `YYYY-MM` (a counted indicator's target month) or
    `YYYY` (a yearly indicator's target year); None without a value. `on`: the month end of
    the point it was read from (a level stands: November's value when December has none)."""

    plan: str
    division: str
    indicator: str
    outcome: OutcomeKind
    value: float | None = None
    target: float | None = None
    shortfall: float | None = None
    period: str | None = None
    on: date | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.division, self.indicator)


def outcome(plan: Plan, division: str, indicator_key: str, series: Series) -> Outcome:
    """The outcome of (division, indicator) in `plan`, judged as the plan ended.

    `series`: the plan's monthly (month end, value) points. Raises KeyError for a division or
    indicator the plan does not know.
    """
    spec = plan.indicator(indicator_key)
    figure = plan.target_for(division, indicator_key)
    at_target = value_at_target(plan, indicator_key, series)
    value = at_target[1] if at_target else None
    on = at_target[0] if at_target else None
    period = None
    if on is not None:
        last = plan.target_date
        period = str(last.year) if spec.kind in PERIODIC_KINDS else f"{last:%Y-%m}"
    found = Outcome(plan.id, division, indicator_key, "no_data", value, None, None, period, on)
    if figure is None:
        return _replace(found, outcome="no_target")
    target = figure.value
    if value is None:
        return _replace(found, target=target)
    if value >= target:
        return _replace(found, outcome="achieved", target=target, shortfall=0.0)
    return _replace(found, outcome="missed", target=target, shortfall=target - value)


def plan_keys(plan: Plan) -> list[tuple[str, str]]:
    """Every (division, indicator) of a plan: the area's, then each division's, in plan order."""
    codes = [plan.city.code, *(d.code for d in plan.districts)]
    return [(code, key) for code in codes for key in plan.indicator_keys]


def targeted_keys(plan: Plan) -> list[tuple[str, str]]:
    """The (division, indicator) keys with a published target, in plan order."""
    return [k for k in plan_keys(plan) if plan.target_for(*k) is not None]


def outcomes(
    plan: Plan,
    series: Mapping[tuple[str, str], Series],
    keys: list[tuple[str, str]] | None = None,
) -> list[Outcome]:
    """The outcomes of `keys` (default: every key of the plan), a missing series being no data."""
    return [outcome(plan, d, i, series.get((d, i), ())) for d, i in keys or plan_keys(plan)]


def _replace(found: Outcome, **changes: object) -> Outcome:
    return replace(found, **changes)  # type: ignore[arg-type]
