"""The figures of one (division, indicator): its value as text (a change since the baseline date
where there is no opening balance), its monthly change, its assessment, its chart, its alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shared.bulletin.rows import AlertRow
from shared.bulletin.text import ALERT_STATE_ZH, STATUS_ZH, signed, since_label
from shared.charts import Chart, Forecast
from shared.numbers import with_unit
from shared.outcomes import targeted_keys
from shared.plan import Plan
from shared.status import PERIODIC_KINDS, Assessment, assess
from shared.trajectory import month_end, required_value

Series = Sequence[tuple[date, float]]
Item = Mapping[str, Any]


def chart_keys(plan: Plan) -> list[tuple[str, str]]:
    """The (division, indicator) pairs whose monthly series `build` needs: the area's
    indicators (drawn) and every pair with a published target (judged)."""
    keys = [(plan.city.code, key) for key in plan.indicator_keys]
    return keys + [k for k in targeted_keys(plan) if k not in keys]


def name_of(plan: Plan, code: str) -> str:
    return plan.city.name_zh if code == plan.city.code else plan.district(code).name_zh


def is_change(plan: Plan, item: Item) -> bool:
    kind = plan.indicator(str(item["indicator"])).kind
    return item.get("baseline") is None and kind not in PERIODIC_KINDS and kind != "ratio"


def value_text(plan: Plan, item: Item | None) -> str:
    if item is None or item.get("value") is None:
        return "—"
    value, unit = float(item["value"]), str(item["unit"])
    if is_change(plan, item):
        return f"较{since_label(plan.baseline_date)} {signed(value, unit)}"
    return with_unit(value, unit)


def monthly_change(plan: Plan, now: Item, before: Item | None) -> float | None:
    kind = plan.indicator(str(now["indicator"])).kind
    if kind in PERIODIC_KINDS or before is None:
        return None
    if now.get("value") is None or before.get("value") is None:
        return None
    return float(now["value"]) - float(before["value"])


def increase(item: Item | None) -> float | None:
    """Since the plan's baseline date: value less the opening balance (0 without one)."""
    if item is None or item.get("value") is None:
        return None
    return float(item["value"]) - float(item.get("baseline") or 0.0)


def assessments(
    plan: Plan, series: Mapping[tuple[str, str], Series], on: date
) -> dict[tuple[str, str], Assessment]:
    return {k: assess(plan, k[0], k[1], series.get(k, ()), on) for k in targeted_keys(plan)}


def path_of(plan: Plan, code: str, key: str) -> list[tuple[date, float]]:
    """The required path, month end by month end (a yearly indicator: year ends)."""
    yearly = plan.indicator(key).kind in PERIODIC_KINDS
    points: list[tuple[date, float]] = []
    day = plan.baseline_date
    while day <= plan.target_date:
        value = required_value(plan, code, key, day)
        if value is not None and (not yearly or day.month == 12):
            points.append((day, value))
        following = month_end(f"{day.year + (day.month == 12)}-{day.month % 12 + 1:02d}")
        day = following
    return points


def chart_of(
    plan: Plan, item: Item, points: Series, found: Assessment | None, as_of: date
) -> Chart:
    code, key = plan.city.code, str(item["indicator"])
    spec = plan.indicator(key)
    has_target = plan.target_for(code, key) is not None
    forecast = None
    if found is not None and found.forecast is not None:
        f = found.forecast
        forecast = Forecast(plan.target_date, f.value, f.low, f.high)
    yearly = spec.kind in PERIODIC_KINDS
    required = found.required if found is not None else None
    return Chart(
        division=plan.city.name_zh,
        indicator=spec.name_zh,
        plan=plan.name_zh,
        unit=spec.unit,
        actual=[p for p in points if p[0] <= as_of],
        path=path_of(plan, code, key) if has_target else (),
        milestones=[(date(int(y), 12, 31), f.value) for y, f in sorted(spec.milestones.items())]
        if has_target
        else (),
        target=float(item["target"]) if item.get("target") is not None else None,
        target_date=plan.target_date if has_target else None,
        forecast=forecast,
        as_of=as_of,
        required=required,
        change_since=plan.baseline_date if is_change(plan, item) else None,
        required_on=found.on if yearly and found is not None and required is not None else None,
    )


def alert_rows(plan: Plan, alerts: Sequence[Item]) -> list[AlertRow]:
    rows = []
    for a in alerts:
        if a.get("plan") != plan.id or a.get("state") not in ("firing", "pending"):
            continue
        code, key = str(a["district"]), str(a["indicator"])
        if key not in plan.indicator_keys or not (code == plan.city.code or plan.is_district(code)):
            continue
        unit = plan.indicator(key).unit
        since = a.get("firing_since") or a.get("active_since")
        rows.append(
            AlertRow(
                division=name_of(plan, code),
                indicator=plan.indicator(key).name_zh,
                state=ALERT_STATE_ZH.get(str(a["state"]), str(a["state"])),
                status=STATUS_ZH.get(str(a["status"]), str(a["status"])),
                severity="严重" if a.get("severity") == "critical" else "警示",
                value="—" if a.get("value") is None else with_unit(float(a["value"]), unit),
                required="—"
                if a.get("required") is None
                else with_unit(float(a["required"]), unit),
                since=str(since)[:10] if since else "—",
            )
        )
    rows.sort(key=lambda r: (r.state != "告警中", r.severity != "严重", r.division))
    return rows
