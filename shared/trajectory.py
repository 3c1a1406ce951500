"""The plan's required path: where an indicator should stand on a given day.

Pure maths, shared by the services that report it (indicators' API, alerts' evaluation).
From baseline B on the baseline date to target T on the target date, with f the elapsed
fraction of the plan period: `linear` B + (T - B)·f, `compound` B·(T/B)^f. Where the plan
sets yearly milestones for the area's indicator, the path runs through each of them at its
year's end, segment by segment, the same way.

An `annual` indicator (a year's value, e.g. the IP service revenue of that year) is not a
running total: what the plan asks of year Y is the path's value at the end of Y, so
`required_value` on any day of Y answers the path at Y-12-31 (the year's value must reach it).
"""

from __future__ import annotations

from datetime import date

from shared.months import month_end as month_end  # re-exported: callers import it from here
from shared.months import months_between as months_between
from shared.plan import PathKind, Plan


def path_value(baseline: float, target: float, path: PathKind, fraction: float) -> float:
    """The required value at `fraction` (0..1) of the period.

    A compound path needs a positive baseline and target; from a zero baseline (a count that
    starts with the plan) growth cannot be compound, so the path is linear.
    """
    if path == "compound" and baseline > 0 and target > 0:
        return float(baseline * (target / baseline) ** fraction)
    return float(baseline + (target - baseline) * fraction)


def required_value(plan: Plan, district: str, indicator: str, on: date) -> float | None:
    """The value the plan requires of (district, indicator) on `on`; None without a target.

    A district without a published baseline is measured as change since the baseline date, so
    its baseline is 0 (its target is then read as the planned change). For an `annual`
    indicator, the requirement on the year of `on` (the path at that year's end).
    """
    target = plan.target_for(district, indicator)
    if target is None:
        return None
    baseline = plan.baseline_for(district, indicator)
    start = baseline.value if baseline is not None else 0.0
    spec = plan.indicator(indicator)
    if spec.kind == "annual":
        on = date(on.year, 12, 31)
    points = [(plan.baseline_date, start)]
    if district == plan.city.code:  # milestones are the area's
        points += sorted((date(int(y), 12, 31), f.value) for y, f in spec.milestones.items())
    points.append((plan.target_date, target.value))
    for (begin, low), (end, high) in zip(points, points[1:], strict=False):
        if on <= end or end == plan.target_date:
            span = (end - begin).days
            fraction = min(1.0, max(0.0, (on - begin).days / span)) if span > 0 else 1.0
            return path_value(low, high, spec.path, fraction)
    raise AssertionError("unreachable: the last point is the target date")
