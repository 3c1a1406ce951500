"""The status of one (district, indicator) on a day: compare the series with the plan.

- `no_target`: the plan publishes no target for it (never invented).
- `no_data`: no value yet.
- `behind`: the latest value is below the required value by more than the plan's tolerance,
  i.e. value < required × (1 − tolerance).
- `at_risk`: on the path today, but the forecast at the target date falls short of the
  target by more than the tolerance: forecast < target × (1 − tolerance).
- `on_track`: otherwise (including when too little data allows no forecast).

Stocks and running totals are compared with the path on `today` (their latest value stands
today). An `annual` indicator's latest value belongs to the year of its month; it is compared
with the path at that year's end, and the forecast fits one point per year (the value of the
year's last month) and is read at the target year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.alerts.domain.forecast import Forecast, forecast
from shared.plan import Plan
from shared.trajectory import month_end, months_between, required_value

Status = Literal["on_track", "at_risk", "behind", "no_target", "no_data"]
Point = tuple[str, float]  # ("YYYY-MM", end-of-month value)


@dataclass(frozen=True)
class Assessment:
    district: str
    indicator: str
    status: Status
    value: float | None = None
    month: str | None = None
    required: float | None = None
    target: float | None = None
    forecast: Forecast | None = None
    tolerance: float = 0.0

    @property
    def alerting(self) -> bool | None:
        """True while the alert condition holds; None when the data cannot tell (no data)."""
        if self.status == "no_data":
            return None
        return self.status in ("behind", "at_risk")

    @property
    def severity(self) -> str:
        return "critical" if self.status == "behind" else "warning"


def assess(
    plan: Plan,
    district: str,
    indicator: str,
    points: Sequence[Point],
    today: date,
    window: int = 24,
) -> Assessment:
    target = plan.target_for(district, indicator)
    if target is None:
        return Assessment(district, indicator, "no_target")
    spec = plan.indicator(indicator)
    known = [(m, v) for m, v in sorted(points) if m <= f"{today:%Y-%m}"]
    if not known:
        return Assessment(district, indicator, "no_data", target=target.value)
    month, value = known[-1]
    if spec.kind == "annual":
        required = required_value(plan, district, indicator, month_end(month))
        yearly: dict[int, float] = {}
        for m, v in known:
            yearly[int(m[:4])] = v
        fit = forecast(
            [(float(y), v) for y, v in sorted(yearly.items())],
            float(plan.target_date.year),
            window=window,
        )
    else:
        required = required_value(plan, district, indicator, today)
        start = plan.baseline_date
        fit = forecast(
            [(float(months_between(start, m)), v) for m, v in known],
            float(months_between(start, f"{plan.target_date:%Y-%m}")),
            window=window,
        )
    assert required is not None  # noqa: S101 - a target exists, so a path exists
    tolerance = spec.tolerance
    status: Status
    if value < required * (1 - tolerance):
        status = "behind"
    elif fit is not None and fit.value < target.value * (1 - tolerance):
        status = "at_risk"
    else:
        status = "on_track"
    return Assessment(
        district, indicator, status, value, month, required, target.value, fit, tolerance
    )
