"""The plan's required path: where an indicator should stand on a given day.

Pure maths, shared by the services that report it (indicators' API, alerts' evaluation).
From baseline B on the baseline date to target T on the target date, with f the elapsed
fraction of the plan period: `linear` B + (T - B)·f, `compound` B·(T/B)^f.
"""

from __future__ import annotations

from datetime import date

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
    its baseline is 0 (its target is then read as the planned change).
    """
    target = plan.target_for(district, indicator)
    if target is None:
        return None
    baseline = plan.baseline_for(district, indicator)
    start = baseline.value if baseline is not None else 0.0
    path = plan.indicator(indicator).path
    return path_value(start, target.value, path, plan.elapsed_fraction(on))
