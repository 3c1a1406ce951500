"""What a notice shows, frozen when it is decided: the numbers and the chart's points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from services.alerts.domain.assessment import Assessment, Point
from services.alerts.domain.chart import ChartData, render_png
from services.alerts.domain.numbers import SHANGHAI
from shared.plan import Plan
from shared.trajectory import month_end, months_between, required_value


def snapshot_of(
    assessment: Assessment,
    plan: Plan,
    points: Sequence[Point],
    now: datetime,
    today: date | None = None,
) -> dict[str, Any]:
    """`today`: the day the path was read for (default: `now`'s day in Beijing)."""
    a = assessment
    spec = plan.indicator(a.indicator)
    start = plan.baseline_date
    x_max = months_between(start, f"{plan.target_date:%Y-%m}")
    path: list[list[float]] = []
    for x in range(0, x_max + 1, 3):
        year, month = start.year + (start.month + x - 1) // 12, (start.month + x - 1) % 12 + 1
        required = required_value(plan, a.district, a.indicator, month_end(f"{year}-{month:02d}"))
        if required is not None:
            path.append([float(x), required])
    name = plan.city.name_zh if a.district == plan.city.code else plan.district(a.district).name_zh
    fit = a.forecast
    return {
        "district": a.district,
        "district_name": name,
        "indicator": a.indicator,
        "indicator_name": spec.name_zh,
        "unit": spec.unit,
        "kind": spec.kind,
        "status": a.status,
        "severity": a.severity,
        "value": a.value,
        "month": a.month,
        "required": a.required,
        "target": a.target,
        "tolerance": a.tolerance,
        "forecast": fit.value if fit else None,
        "forecast_low": fit.low if fit else None,
        "forecast_high": fit.high if fit else None,
        "target_date": plan.target_date.isoformat(),
        "at": now.isoformat(),
        "as_of": (today or now.astimezone(SHANGHAI).date()).isoformat(),
        "series": [[float(months_between(start, m)), v] for m, v in points],
        "path": path,
        "x_max": float(x_max),
    }


def chart_png(s: dict[str, Any]) -> bytes:
    """The chart of a snapshot: series, required path, forecast with its interval."""
    series = [(float(x), float(y)) for x, y in s["series"]]
    last = series[-1] if series else None
    forecast_to = None
    if s["forecast"] is not None and last is not None:
        x_max = float(s["x_max"])
        forecast_to = (
            x_max,
            float(s["forecast"]),
            float(s["forecast_low"]),
            float(s["forecast_high"]),
        )
    return render_png(
        ChartData(
            series=series,
            path=[(float(x), float(y)) for x, y in s["path"]],
            forecast_from=last if forecast_to else None,
            forecast_to=forecast_to,
            x_max=float(s["x_max"]),
        )
    )
