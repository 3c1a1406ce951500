"""What a monthly bulletin says, from the indicators API's answers. Pure: no I/O.

`build` takes the plan, the report month, the `/v1/indicators` items at the end of that month
and of the month before, the monthly series of the keys it judges or draws, and the alerts
(None when the alerts service could not be asked) and returns a `Bulletin`: every figure
already formatted as officials read it (万, 亿, units, Chinese labels), so that the template
only lays it out.

- Statuses come from `shared.status.assess` on the month's last day (the one definition);
  only the (division, indicator) pairs with a published target are judged. Once the plan has
  ended on that day, the summary is its final evaluation (`shared.outcomes`).
- A value without an opening balance (no published or derived baseline) is a change since the
  plan's baseline date, and is always labelled so ("较2020年末 +…"), never shown as a stock.
- "This month": the change of each value from the previous month's end; yearly values
  (`annual`, `reported`) are the latest period's figure, so their change is not a monthly one
  and is left out.
- The ranking orders the divisions by their increase since the baseline date of the plan's
  first counted indicator (a change is comparable whether or not a division has a published
  baseline), ties sharing a rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.charts import Chart, Forecast
from shared.numbers import with_unit
from shared.outcomes import Outcome, outcomes, targeted_keys
from shared.plan import Plan
from shared.status import PERIODIC_KINDS, Assessment, Status, assess
from shared.trajectory import month_end, required_value

__all__ = [
    "OUTCOME_ZH",
    "STATUS_ZH",
    "AlertRow",
    "Bulletin",
    "ChangeRow",
    "IndicatorRow",
    "OutcomeRow",
    "RankRow",
    "StatusChange",
    "build",
    "chart_keys",
    "month_label",
    "previous_month",
]

Series = Sequence[tuple[date, float]]
Item = Mapping[str, Any]

STATUS_ZH: dict[str, str] = {
    "on_track": "符合进度",
    "at_risk": "存在风险",
    "behind": "落后于进度",
    "no_target": "未设目标",
    "no_data": "暂无数据",
}
OUTCOME_ZH: dict[str, str] = {
    "achieved": "已实现",
    "missed": "未实现",
    "no_target": "未设目标",
    "no_data": "暂无数据",
}
ALERT_STATE_ZH = {"firing": "告警中", "pending": "待确认", "inactive": "已恢复"}
STATE_ZH = {"upcoming": "尚未开始", "in_progress": "实施中", "ended": "已结束"}
COUNTED_KINDS = frozenset({"stock", "cumulative", "cumulative_sum"})
RANKED = 3  # indicators in the ranking


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def month_label(month: str) -> str:
    """ "2022-03" → "2022年3月"."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def _day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _since_label(day: date) -> str:
    return f"{day.year}年末" if (day.month, day.day) == (12, 31) else _day_label(day)


def _signed(value: float, unit: str) -> str:
    text = with_unit(abs(value), unit)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the area, against the plan, at the end of the month."""

    key: str
    name: str
    unit: str
    value: str  # "5.23万件", or "+1,234件" when it is a change since the baseline date
    is_change: bool
    baseline: str
    target: str
    required: str
    progress: str
    status: Status
    status_zh: str
    previous: str
    change: str  # this month


@dataclass(frozen=True)
class OutcomeRow:
    division: str
    indicator: str
    value: str
    target: str
    shortfall: str
    outcome: str
    outcome_zh: str


@dataclass(frozen=True)
class RankRow:
    rank: int
    code: str
    division: str
    increases: tuple[str, ...]  # since the baseline date, one per ranked indicator
    this_month: tuple[str, ...]
    targets: str  # "落后 1 · 风险 0 · 符合 2", or "—" without targets


@dataclass(frozen=True)
class ChangeRow:
    """A division that moved most on an indicator this month."""

    indicator: str
    division: str
    change: str


@dataclass(frozen=True)
class StatusChange:
    division: str
    indicator: str
    before: str
    after: str


@dataclass(frozen=True)
class AlertRow:
    division: str
    indicator: str
    state: str
    status: str
    severity: str
    value: str
    required: str
    since: str


@dataclass(frozen=True)
class Bulletin:
    plan_id: str
    plan_name: str
    document_no: str
    area: str
    period: str  # "2021年1月—2025年12月"
    state: str  # the plan's state on the month's last day, in Chinese
    ended: bool
    month: str
    month_label: str
    as_of: date
    as_of_label: str
    made_on: date
    made_on_label: str
    counts: dict[str, int]  # status (or outcome, once ended) → number of judged pairs
    judged: int
    unjudged: int  # pairs without a target: only their values are reported
    indicators: list[IndicatorRow]
    charts: list[Chart]
    outcomes: list[OutcomeRow]
    ranked_names: tuple[str, ...]
    ranked_units: tuple[str, ...]
    ranking: list[RankRow]
    movers: list[ChangeRow]
    status_changes: list[StatusChange]
    alerts: list[AlertRow] | None
    alerts_note: str
    summary: list[str] = field(default_factory=list)  # the summary's sentences


def chart_keys(plan: Plan) -> list[tuple[str, str]]:
    """The (division, indicator) pairs whose monthly series `build` needs: the area's
    indicators (drawn) and every pair with a published target (judged)."""
    keys = [(plan.city.code, key) for key in plan.indicator_keys]
    return keys + [k for k in targeted_keys(plan) if k not in keys]


def _name_of(plan: Plan, code: str) -> str:
    return plan.city.name_zh if code == plan.city.code else plan.district(code).name_zh


def _is_change(plan: Plan, item: Item) -> bool:
    kind = plan.indicator(str(item["indicator"])).kind
    return item.get("baseline") is None and kind not in PERIODIC_KINDS and kind != "ratio"


def _value_text(plan: Plan, item: Item | None) -> str:
    if item is None or item.get("value") is None:
        return "—"
    value, unit = float(item["value"]), str(item["unit"])
    if _is_change(plan, item):
        return f"较{_since_label(plan.baseline_date)} {_signed(value, unit)}"
    return with_unit(value, unit)


def _monthly_change(plan: Plan, now: Item, before: Item | None) -> float | None:
    kind = plan.indicator(str(now["indicator"])).kind
    if kind in PERIODIC_KINDS or before is None:
        return None
    if now.get("value") is None or before.get("value") is None:
        return None
    return float(now["value"]) - float(before["value"])


def _increase(item: Item | None) -> float | None:
    """Since the plan's baseline date: value less the opening balance (0 without one)."""
    if item is None or item.get("value") is None:
        return None
    return float(item["value"]) - float(item.get("baseline") or 0.0)


def _assessments(
    plan: Plan, series: Mapping[tuple[str, str], Series], on: date
) -> dict[tuple[str, str], Assessment]:
    return {k: assess(plan, k[0], k[1], series.get(k, ()), on) for k in targeted_keys(plan)}


def _path(plan: Plan, code: str, key: str) -> list[tuple[date, float]]:
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


def _chart(plan: Plan, item: Item, points: Series, found: Assessment | None, as_of: date) -> Chart:
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
        path=_path(plan, code, key) if has_target else (),
        milestones=[(date(int(y), 12, 31), f.value) for y, f in sorted(spec.milestones.items())]
        if has_target
        else (),
        target=float(item["target"]) if item.get("target") is not None else None,
        target_date=plan.target_date if has_target else None,
        forecast=forecast,
        as_of=as_of,
        required=required,
        change_since=plan.baseline_date if _is_change(plan, item) else None,
        required_on=found.on if yearly and found is not None and required is not None else None,
    )


def _alert_rows(plan: Plan, alerts: Sequence[Item]) -> list[AlertRow]:
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
                division=_name_of(plan, code),
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


def build(  # noqa: C901 - one bulletin, section by section
    plan: Plan,
    month: str,
    made_on: date,
    current: Sequence[Item],
    previous: Sequence[Item],
    series: Mapping[tuple[str, str], Series],
    alerts: Sequence[Item] | None,
    alerts_error: str | None = None,
) -> Bulletin:
    """The bulletin of `plan` for `month` (`YYYY-MM`), made on `made_on`.

    `current` / `previous`: `/v1/indicators` items at the end of `month` / of the month
    before; `series`: the plan's (month end, value) points of at least `chart_keys(plan)`;
    `alerts`: `/v1/alerts` items, None when the alerts service could not be asked (then
    `alerts_error` says why).
    """
    as_of = month_end(month)
    before_day = month_end(previous_month(month))
    ended = plan.state(as_of) == "ended"
    now = {(str(i["district"]), str(i["indicator"])): i for i in current}
    then = {(str(i["district"]), str(i["indicator"])): i for i in previous}
    area = plan.city.code

    found = _assessments(plan, series, as_of)
    earlier = _assessments(plan, series, before_day)

    # The area's indicators, with their charts.
    rows: list[IndicatorRow] = []
    charts: list[Chart] = []
    for key in plan.indicator_keys:
        item = now.get((area, key))
        if item is None:
            continue
        spec = plan.indicator(key)
        a = found.get((area, key))
        status: Status = a.status if a is not None else "no_target"
        if item.get("value") is None and a is None:
            status = "no_data" if plan.target_for(area, key) is not None else "no_target"
        moved = _monthly_change(plan, item, then.get((area, key)))
        target = item.get("target")
        required = a.required if a is not None else item.get("required")
        rows.append(
            IndicatorRow(
                key=key,
                name=spec.name_zh,
                unit=spec.unit,
                value=_value_text(plan, item),
                is_change=_is_change(plan, item),
                baseline="—"
                if item.get("baseline") is None
                else with_unit(float(item["baseline"]), spec.unit),
                target="—" if target is None else with_unit(float(target), spec.unit),
                required="—" if required is None else with_unit(float(required), spec.unit),
                progress=_percent(item.get("progress")),
                status=status,
                status_zh=STATUS_ZH[status],
                previous=_value_text(plan, then.get((area, key))),
                change="—" if moved is None else _signed(moved, spec.unit),
            )
        )
        points = series.get((area, key), ())
        if any(day <= as_of for day, _ in points):
            charts.append(_chart(plan, item, points, a, as_of))

    # The summary: statuses of the judged pairs, or the final evaluation.
    judged_keys = targeted_keys(plan)
    final: list[Outcome] = outcomes(plan, series, judged_keys) if ended else []
    counts: dict[str, int] = {}
    if ended:
        for o in final:
            counts[o.outcome] = counts.get(o.outcome, 0) + 1
    else:
        for a in found.values():
            counts[a.status] = counts.get(a.status, 0) + 1
    total_pairs = (1 + len(plan.districts)) * len(plan.indicator_keys)
    outcome_rows = [
        OutcomeRow(
            division=_name_of(plan, o.division),
            indicator=plan.indicator(o.indicator).name_zh,
            value="—" if o.value is None else with_unit(o.value, plan.indicator(o.indicator).unit),
            target="—"
            if o.target is None
            else with_unit(o.target, plan.indicator(o.indicator).unit),
            shortfall="—"
            if not o.shortfall
            else with_unit(o.shortfall, plan.indicator(o.indicator).unit),
            outcome=o.outcome,
            outcome_zh=OUTCOME_ZH[o.outcome],
        )
        for o in final
    ]

    # The divisions' ranking.
    ranked = [
        spec
        for spec in plan.indicators
        if spec.kind in COUNTED_KINDS and any((d.code, spec.key) in now for d in plan.districts)
    ][:RANKED]
    district_status: dict[str, dict[str, int]] = {}
    for (code, _), a in found.items():
        if code != area and not ended:
            tally = district_status.setdefault(code, {})
            tally[a.status] = tally.get(a.status, 0) + 1
    if ended:
        for o in final:
            if o.division != area:
                tally = district_status.setdefault(o.division, {})
                tally[o.outcome] = tally.get(o.outcome, 0) + 1

    def targets_text(code: str) -> str:
        tally = district_status.get(code)
        if not tally:
            return "—"
        order = ("missed", "achieved", "no_data") if ended else (
            "behind", "at_risk", "on_track", "no_data"
        )  # fmt: skip
        names = OUTCOME_ZH if ended else STATUS_ZH
        return " · ".join(f"{names[s]} {tally[s]}" for s in order if tally.get(s))

    scored = []
    for d in plan.districts:
        increases = [_increase(now.get((d.code, s.key))) for s in ranked]
        monthly = [
            _monthly_change(plan, now[(d.code, s.key)], then.get((d.code, s.key)))
            if (d.code, s.key) in now
            else None
            for s in ranked
        ]
        scored.append((d.code, d.name_zh, increases, monthly))

    def lead_of(row: tuple[str, str, list[float | None], list[float | None]]) -> float | None:
        return row[2][0] if row[2] else None

    scored.sort(key=lambda r: (lead_of(r) is None, -(lead_of(r) or 0.0), r[0]))
    ranking: list[RankRow] = []
    for position, (code, name, increases, monthly) in enumerate(scored, start=1):
        lead = lead_of(scored[position - 1])
        tied = position > 1 and lead is not None and lead_of(scored[position - 2]) == lead
        rank = ranking[-1].rank if tied else position
        ranking.append(
            RankRow(
                rank=rank,
                code=code,
                division=name,
                increases=tuple(
                    "—" if v is None else _signed(v, s.unit)
                    for v, s in zip(increases, ranked, strict=True)
                ),
                this_month=tuple(
                    "—" if v is None else _signed(v, s.unit)
                    for v, s in zip(monthly, ranked, strict=True)
                ),
                targets=targets_text(code),
            )
        )

    # What moved most this month: per counted indicator, the division with the largest change.
    movers: list[ChangeRow] = []
    for spec in plan.indicators:
        if spec.kind not in COUNTED_KINDS:
            continue
        changes = []
        for d in plan.districts:
            item = now.get((d.code, spec.key))
            moved = (
                None if item is None else _monthly_change(plan, item, then.get((d.code, spec.key)))
            )
            if moved:
                changes.append((moved, d.name_zh))
        if changes:
            moved, name = max(changes, key=lambda c: (c[0], c[1]))
            if moved > 0:
                movers.append(ChangeRow(spec.name_zh, name, _signed(moved, spec.unit)))

    status_changes = [
        StatusChange(
            _name_of(plan, code),
            plan.indicator(key).name_zh,
            STATUS_ZH[earlier[(code, key)].status],
            STATUS_ZH[a.status],
        )
        for (code, key), a in found.items()
        if earlier[(code, key)].status != a.status
    ]

    alert_rows = None if alerts is None else _alert_rows(plan, alerts)
    if alerts is None:
        alerts_note = f"告警服务暂时无法访问,本期未列出告警({alerts_error or '未知原因'})。"
    elif not alert_rows:
        alerts_note = "生成本报告时,本规划没有告警中或待确认的告警。"
    else:
        alerts_note = f"生成本报告时,本规划有 {len(alert_rows)} 条告警(告警中或待确认)。"

    label = month_label(month)
    summary: list[str] = []
    judged = len(judged_keys)
    if ended:
        summary.append(
            f"本规划已于{_day_label(plan.target_date)}结束。在设有目标的 {judged} 项指标中,"
            f"已实现 {counts.get('achieved', 0)} 项,未实现 {counts.get('missed', 0)} 项,"
            f"暂无数据 {counts.get('no_data', 0)} 项。"
        )
    elif judged:
        summary.append(
            f"截至{label}末,在设有目标的 {judged} 项指标中,符合进度 "
            f"{counts.get('on_track', 0)} 项,存在风险 {counts.get('at_risk', 0)} 项,"
            f"落后于进度 {counts.get('behind', 0)} 项,暂无数据 {counts.get('no_data', 0)} 项。"
        )
    else:
        summary.append(f"本规划尚未公布量化目标,截至{label}末仅报告各项指标数值,不作进度判断。")
    unjudged = total_pairs - judged
    if judged and unjudged:
        summary.append(f"其余 {unjudged} 项(区县 × 指标)规划未设定量目标,仅报告数值。")
    if status_changes:
        summary.append(f"本月状态发生变化的指标 {len(status_changes)} 项。")

    return Bulletin(
        plan_id=plan.id,
        plan_name=plan.name_zh,
        document_no=plan.document_no,
        area=plan.city.name_zh,
        period=f"{month_label(_next_month(plan.baseline_date))}—"
        f"{month_label(f'{plan.target_date:%Y-%m}')}",
        state=STATE_ZH[plan.state(as_of)],
        ended=ended,
        month=month,
        month_label=label,
        as_of=as_of,
        as_of_label=_day_label(as_of),
        made_on=made_on,
        made_on_label=_day_label(made_on),
        counts=counts,
        judged=judged,
        unjudged=unjudged,
        indicators=rows,
        charts=charts,
        outcomes=outcome_rows,
        ranked_names=tuple(s.name_zh for s in ranked),
        ranked_units=tuple(s.unit for s in ranked),
        ranking=ranking,
        movers=movers,
        status_changes=status_changes,
        alerts=alert_rows,
        alerts_note=alerts_note,
        summary=summary,
    )


def _next_month(day: date) -> str:
    return f"{day.year + (day.month == 12)}-{day.month % 12 + 1:02d}"
