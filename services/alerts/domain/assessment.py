"""The alerts' view of `shared.status`: the same assessment, fed with `("YYYY-MM", v)` points.

The status definition itself (`behind`, `at_risk`, the evidence rule for counts, grace months,
provisional years) is `shared.status.assess`; see there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shared.plan import Plan
from shared.status import Assessment, Status, month_points
from shared.status import assess as assess_series

__all__ = ["Assessment", "Point", "Status", "assess"]

Point = tuple[str, float]  # ("YYYY-MM", end-of-month value)


def assess(
    plan: Plan,
    district: str,
    indicator: str,
    points: Sequence[Point],
    today: date,
    window: int = 24,
) -> Assessment:
    """`shared.status.assess` for the series the alerts service stores."""
    return assess_series(plan, district, indicator, month_points(points), today, window)
