"""Indicator values from folded totals: opening balances from the plan, the city as a sum."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from shared.plan import Plan


def current_values(
    plan: Plan, totals: Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], float]:
    """Value per (district, indicator): baseline (where the plan has one) + folded change.

    Only counted indicators (not ratios) here; the city (`plan.city.code`) is the sum of the
    districts' changes on top of the city's baseline.
    """
    values: dict[tuple[str, str], float] = {}
    city_change: dict[str, float] = defaultdict(float)
    for (district, indicator), change in totals.items():
        baseline = plan.baseline_for(district, indicator)
        values[(district, indicator)] = (baseline.value if baseline else 0.0) + change
        city_change[indicator] += change
    for indicator in {i for _, i in totals}:
        baseline = plan.baseline_for(plan.city.code, indicator)
        values[(plan.city.code, indicator)] = (baseline.value if baseline else 0.0) + city_change[
            indicator
        ]
    return values
