"""What a notice shows, frozen when it is decided: the numbers and the chart's points.

A snapshot is a dict (stored as JSON with the alert and in the send log). Its chart fields:
`actual`, `path` as dated points (`[["2021-06-30", 1.0], ...]`), `milestones`, `plan_name`,
`change_since`. Snapshots stored before the dates were added carry `series` and `path` as
x = months since the plan's baseline month (`x_max` months to the target date); they still
render: the baseline month is the target date's month less `x_max`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from services.alerts.domain.assessment import Assessment, Point
from shared.charts import MAIL_SIZE, Chart, Forecast, alt_text, png
from shared.months import add_months, format_month, month_end, months_between
from shared.numbers import SHANGHAI
from shared.plan import Plan
from shared.status import PERIODIC_KINDS
from shared.trajectory import required_value


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
    path: list[list[float]] = []  # the pre-dates form, kept for older readers
    dated: list[list[Any]] = []
    annual = spec.kind in PERIODIC_KINDS  # a year's value: the path asks it of the year's end
    for x in range(0, x_max + 1):
        day = start if x == 0 else month_end(add_months(start, x))
        required = required_value(plan, a.district, a.indicator, day)
        if required is None:
            continue
        if x % 3 == 0:
            path.append([float(x), required])
        if annual and x and day.month != 12:
            continue
        dated.append([day.isoformat(), required])
    area = a.district == plan.city.code
    milestones = [
        [f"{year}-12-31", figure.value]
        for year, figure in sorted(spec.milestones.items())
        if area and plan.target_for(a.district, a.indicator) is not None
    ]
    name = plan.city.name_zh if area else plan.district(a.district).name_zh
    # A stock without a published baseline is measured as its change since the baseline date.
    change = spec.kind in ("stock", "ratio") and plan.baseline_for(a.district, a.indicator) is None
    fit = a.forecast
    return {
        "plan": plan.id,
        "district": a.district,
        "district_name": name,
        "indicator": a.indicator,
        "indicator_name": spec.name_zh,
        "plan_name": plan.name_zh,
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
        "baseline_date": start.isoformat(),
        "target_date": plan.target_date.isoformat(),
        "change_since": start.isoformat() if change else None,
        "at": now.isoformat(),
        "as_of": (today or now.astimezone(SHANGHAI).date()).isoformat(),
        "required_on": f"{a.month[:4]}-12-31" if annual and a.month else None,
        "actual": [[month_end(m).isoformat(), v] for m, v in points],
        "path_dated": dated,
        "milestones": milestones,
        "series": [[float(months_between(start, m)), v] for m, v in points],
        "path": path,
        "x_max": float(x_max),
    }


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def chart_of(s: dict[str, Any]) -> Chart:
    """The chart a snapshot shows (of any age: see the module's note)."""
    target_date = date.fromisoformat(str(s["target_date"]))
    if "actual" in s:
        actual = [(date.fromisoformat(d), float(v)) for d, v in s["actual"]]
        path = [(date.fromisoformat(d), float(v)) for d, v in s["path_dated"]]
    else:  # x = months since the baseline month
        base = format_month(add_months(target_date, -round(float(s["x_max"]))))
        base_day = month_end(base)

        def day(x: float) -> date:
            return month_end(add_months(base_day, round(x)))

        actual = [(day(x), float(v)) for x, v in s["series"]]
        path = [(day(x), float(v)) for x, v in s["path"]]
    forecast = None
    if s.get("forecast") is not None:
        forecast = Forecast(
            target_date, float(s["forecast"]), float(s["forecast_low"]), float(s["forecast_high"])
        )
    since = s.get("change_since")
    as_of = s.get("as_of")
    return Chart(
        division=str(s["district_name"]),
        indicator=str(s["indicator_name"]),
        plan=str(s.get("plan_name") or ""),
        unit=str(s["unit"]),
        actual=actual,
        path=path,
        milestones=[(date.fromisoformat(d), float(v)) for d, v in s.get("milestones", [])],
        target=_optional(s.get("target")),
        target_date=target_date,
        forecast=forecast,
        as_of=date.fromisoformat(str(as_of)) if as_of else None,
        required=_optional(s.get("required")),
        change_since=date.fromisoformat(str(since)) if since else None,
        required_on=date.fromisoformat(str(s["required_on"])) if s.get("required_on") else None,
    )


def chart_png(s: dict[str, Any], size: tuple[int, int] = MAIL_SIZE) -> bytes:
    """The chart of a snapshot as a PNG of `size` pixels."""
    return png(chart_of(s), size)[0]


def chart_alt(s: dict[str, Any]) -> str:
    """The chart of a snapshot in words, with its numbers (the mail's `<img alt>`)."""
    return alt_text(chart_of(s))
