"""The status of one (plan, division, indicator) on a day: the one definition every surface uses.

The indicators' API and board, the metrics and the alerts' mail all call `assess`; nothing
else decides a status. Pure: the plan, a monthly series and a day in, a frozen `Assessment` out.

- `no_target`: the plan publishes no target for the key (never invented).
- `no_data`: no value that can be judged yet (none at all, or, for a yearly indicator, only
  the value of a year that has not ended).
- `behind`: below the required path by more than the plan's tolerance:
  required × (1 − tolerance) − value > 0, and for a count (`unit: count`) more than one whole
  unit: a count of 0 against a required 0.23 is no evidence of anything. During the plan's
  `grace_months` after its baseline date nothing is `behind`.
- `at_risk`: on the path today, but the forecast at the target date falls short of the target
  by more than the tolerance (for a count: by more than one whole unit beyond it), the
  forecast resting on at least `RISK_MONTHS` (12) monthly points (a yearly indicator: 3 years).
- `on_track`: otherwise (also when too little data allows no forecast).

Which value is judged, by the indicator's kind:
- counted levels and running totals (`stock`, `ratio`, `cumulative`, `cumulative_sum`): the
  latest value up to the day (its month may be the current one) against the path on the day;
- yearly values (`annual`, `reported`): a year that has not ended is provisional, reported so
  far and never judged against a year-end path. The value judged is the last completed
  year's (the last point of that year), against the path at that year's end; the current
  year's value so far is returned as `provisional_value`. Each year's value is the last point
  the series has in it (the indicators service places a reported statistic of a year in
  that year's months).

Once a plan has ended (`plan.state(on) == "ended"`) there is no "required now": the status
is its outcome (see `shared.outcomes`): `on_track` if the value at the target date reached the
target, else `behind`, with `shortfall` = target − value; `required` and `forecast` are None.

The forecast and its 90 % interval: `shared.forecast`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from shared.forecast import Forecast, forecast
from shared.months import add_months, month_end
from shared.plan import Plan
from shared.trajectory import required_value

__all__ = [
    "PERIODIC_KINDS",
    "RISK_MONTHS",
    "Assessment",
    "Series",
    "Status",
    "assess",
    "falls_short",
    "grace_ends",
    "month_points",
    "value_at_target",
]

Status = Literal["on_track", "at_risk", "behind", "no_target", "no_data"]
Series = Sequence[tuple[date, float]]  # (a day of the month, usually its last; end-of-month value)
PERIODIC_KINDS: frozenset[str] = frozenset({"annual", "reported"})
# A monthly pace says something about the target date only after a year of months: fewer
# points still give a forecast (shown), but never an `at_risk`.
RISK_MONTHS = 12


@dataclass(frozen=True)
class Assessment:
    """What `assess` decided, with the numbers it decided on.

    `value` and `on` are the value judged and the month end it stands for (for a yearly
    indicator: the last completed year's value, on that year's 31 December). `shortfall` is
    how far the value is below what was asked (the path today; the target once the plan
    ended), 0 when it is not below, None without a path. `provisional` is True when the latest
    value belongs to a year that has not ended: it is `provisional_value` (on
    `provisional_on`), reported so far and not judged. `grace` is True when a shortfall was
    not called `behind` because the plan's grace months had not passed.
    """

    plan: str
    division: str
    indicator: str
    status: Status
    value: float | None = None
    on: date | None = None
    required: float | None = None
    target: float | None = None
    forecast: Forecast | None = None
    shortfall: float | None = None
    tolerance: float = 0.0
    provisional: bool = False
    provisional_value: float | None = None
    provisional_on: date | None = None
    grace: bool = False

    @property
    def district(self) -> str:
        return self.division

    @property
    def month(self) -> str | None:
        """`YYYY-MM` of the value judged."""
        return f"{self.on:%Y-%m}" if self.on else None

    @property
    def alerting(self) -> bool | None:
        """True while an alert's condition holds; None when the data cannot tell (no data)."""
        if self.status == "no_data":
            return None
        return self.status in ("behind", "at_risk")

    @property
    def severity(self) -> str:
        return "critical" if self.status == "behind" else "warning"


def month_points(points: Iterable[tuple[str, float]]) -> list[tuple[date, float]]:
    """`("YYYY-MM", value)` points as (month end, value), in month order."""
    return sorted((month_end(month), float(value)) for month, value in points)


def falls_short(value: float, wanted: float, unit: str) -> bool:
    """The evidence rule: `value` is short of `wanted` (already less the tolerance) when the
    gap is positive, and for a count when it is more than one whole unit."""
    gap = wanted - value
    return gap > 1.0 if unit == "count" else gap > 0.0


def grace_ends(plan: Plan) -> date | None:
    """The last day of the plan's grace months (None without any)."""
    if plan.grace_months <= 0:
        return None
    return month_end(add_months(plan.baseline_date, plan.grace_months))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _ordered(series: Series, until: date) -> list[tuple[date, float]]:
    """The points of months up to `until`'s month, as month ends, in order (one per month)."""
    last = _month_index(until)
    by_month: dict[int, float] = {}
    for day, value in series:
        index = day.year * 12 + day.month - 1
        if index <= last:
            by_month[index] = float(value)
    return [(_end_of(i), v) for i, v in sorted(by_month.items())]


@functools.lru_cache(maxsize=4096)
def _end_of(index: int) -> date:
    """The last day of month number `index` (year * 12 + month - 1)."""
    return month_end(date(index // 12, index % 12 + 1, 1))


def _yearly(points: Sequence[tuple[date, float]]) -> dict[int, tuple[date, float]]:
    """Each year's value: the last point the series has in it."""
    years: dict[int, tuple[date, float]] = {}
    for day, value in points:
        years[day.year] = (day, value)
    return years


def value_at_target(plan: Plan, indicator_key: str, series: Series) -> tuple[date, float] | None:
    """The value a plan's outcome is judged on, and the month end it stands for.

    A counted indicator: the value of the target date's month (the latest point up to it: a
    level stands until it changes). A yearly indicator: the target year's value (its last
    point up to the target month), never an earlier year's and never a later partial year's.
    None when there is no such value.
    """
    spec = plan.indicator(indicator_key)
    points = _ordered(series, plan.target_date)
    if spec.kind in PERIODIC_KINDS:
        points = [(d, v) for d, v in points if d.year == plan.target_date.year]
    return points[-1] if points else None


def assess(
    plan: Plan,
    division: str,
    indicator_key: str,
    series: Series,
    on: date,
    window: int = 24,
) -> Assessment:
    """The status of (plan, division, indicator) on the day `on` (a date in the plan's zone).

    `series`: (month end, value) points of the plan's monthly series (any day of a month
    stands for the month; `month_points` turns `("YYYY-MM", v)` pairs into these); points of
    months after `on`'s month are not known yet on `on` and are left out.
    Raises KeyError for a division or indicator the plan does not know.
    """
    spec = plan.indicator(indicator_key)
    target_figure = plan.target_for(division, indicator_key)
    target = target_figure.value if target_figure is not None else None
    tolerance = spec.tolerance
    periodic = spec.kind in PERIODIC_KINDS
    known = _ordered(series, on)
    base = Assessment(plan.id, division, indicator_key, "no_data", target=target,
                      tolerance=tolerance)  # fmt: skip

    provisional_value: float | None = None
    provisional_on: date | None = None
    if periodic:
        complete = [(d, v) for d, v in known if date(d.year, 12, 31) < on]
        if len(complete) < len(known):
            provisional_on, provisional_value = known[-1]
        judged = complete
    else:
        judged = known
    base = _with(base, provisional=provisional_on is not None,
                 provisional_value=provisional_value, provisional_on=provisional_on)  # fmt: skip

    if plan.state(on) == "ended":
        at_target = value_at_target(plan, indicator_key, series)
        if target is None:
            day, value = at_target if at_target else (None, None)
            return _with(base, status="no_target", value=value, on=day)
        if at_target is None:
            return base
        day, value = at_target
        missed = value < target
        return _with(base, status="behind" if missed else "on_track", value=value, on=day,
                     shortfall=target - value if missed else 0.0)  # fmt: skip
    if target is None:
        if judged:
            return _with(base, status="no_target", value=judged[-1][1], on=judged[-1][0])
        return _with(base, status="no_target")
    if not judged:
        return base

    day, value = judged[-1]
    if periodic:
        asked_on = date(day.year, 12, 31)
        yearly = _yearly(judged)
        fit = forecast([(float(y), v) for y, (_, v) in sorted(yearly.items())],
                       float(plan.target_date.year), window=window)  # fmt: skip
    else:
        asked_on = on
        start = _month_index(plan.baseline_date)
        fit = forecast([(float(_month_index(d) - start), v) for d, v in judged],
                       float(_month_index(plan.target_date) - start), window=window)  # fmt: skip
    required = required_value(plan, division, indicator_key, asked_on)
    assert required is not None  # noqa: S101 - a target exists, so a path exists
    shortfall = max(0.0, required - value)
    status: Status = "on_track"
    grace = False
    if falls_short(value, required * (1 - tolerance), spec.unit):
        until = grace_ends(plan)
        if until is not None and on <= until:
            grace = True
        else:
            status = "behind"
    at_end = target * (1 - tolerance)
    paced = fit is not None and (periodic or fit.points >= RISK_MONTHS)
    if status == "on_track" and paced and fit and falls_short(fit.value, at_end, spec.unit):
        status = "at_risk"
    return _with(base, status=status, value=value, on=day, required=required, forecast=fit,
                 shortfall=shortfall, grace=grace)  # fmt: skip


def _with(a: Assessment, **changes: object) -> Assessment:
    return replace(a, **changes)  # type: ignore[arg-type]
