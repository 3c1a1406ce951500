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
from datetime import date

from shared.bulletin.figures import (
    Item,
    Series,
    alert_rows,
    assessments,
    chart_keys,
    chart_of,
    is_change,
    monthly_change,
    name_of,
    value_text,
)
from shared.bulletin.ranking import movers, ranked_indicators, ranking
from shared.bulletin.rows import (
    AlertRow,
    Bulletin,
    ChangeRow,
    IndicatorRow,
    OutcomeRow,
    RankRow,
    StatusChange,
)
from shared.bulletin.text import (
    OUTCOME_ZH,
    STATE_ZH,
    STATUS_ZH,
    day_label,
    month_label,
    percent,
    previous_month,
    signed,
)
from shared.charts import Chart
from shared.months import format_month, month_end
from shared.months import next_month as following_month
from shared.numbers import with_unit
from shared.outcomes import Outcome, outcomes, targeted_keys
from shared.plan import Plan
from shared.status import Status

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

    found = assessments(plan, series, as_of)
    earlier = assessments(plan, series, before_day)

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
        moved = monthly_change(plan, item, then.get((area, key)))
        target = item.get("target")
        required = a.required if a is not None else item.get("required")
        rows.append(
            IndicatorRow(
                key=key,
                name=spec.name_zh,
                unit=spec.unit,
                value=value_text(plan, item),
                is_change=is_change(plan, item),
                baseline="—"
                if item.get("baseline") is None
                else with_unit(float(item["baseline"]), spec.unit),
                target="—" if target is None else with_unit(float(target), spec.unit),
                required="—" if required is None else with_unit(float(required), spec.unit),
                progress=percent(item.get("progress")),
                status=status,
                status_zh=STATUS_ZH[status],
                previous=value_text(plan, then.get((area, key))),
                change="—" if moved is None else signed(moved, spec.unit),
            )
        )
        points = series.get((area, key), ())
        if any(day <= as_of for day, _ in points):
            charts.append(chart_of(plan, item, points, a, as_of))

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
            division=name_of(plan, o.division),
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

    ranked = ranked_indicators(plan, now)
    rank_rows = ranking(plan, ranked, now, then, found, final, ended)
    moved_most = movers(plan, now, then)

    status_changes = [
        StatusChange(
            name_of(plan, code),
            plan.indicator(key).name_zh,
            STATUS_ZH[earlier[(code, key)].status],
            STATUS_ZH[a.status],
        )
        for (code, key), a in found.items()
        if earlier[(code, key)].status != a.status
    ]

    listed = None if alerts is None else alert_rows(plan, alerts)
    if alerts is None:
        alerts_note = f"告警服务暂时无法访问,本期未列出告警({alerts_error or '未知原因'})。"
    elif not listed:
        alerts_note = "生成本报告时,本规划没有告警中或待确认的告警。"
    else:
        alerts_note = f"生成本报告时,本规划有 {len(listed)} 条告警(告警中或待确认)。"

    label = month_label(month)
    summary: list[str] = []
    judged = len(judged_keys)
    if ended:
        summary.append(
            f"本规划已于{day_label(plan.target_date)}结束。在设有目标的 {judged} 项指标中,"
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
        period=f"{month_label(next_month(plan.baseline_date))}—"
        f"{month_label(f'{plan.target_date:%Y-%m}')}",
        state=STATE_ZH[plan.state(as_of)],
        ended=ended,
        month=month,
        month_label=label,
        as_of=as_of,
        as_of_label=day_label(as_of),
        made_on=made_on,
        made_on_label=day_label(made_on),
        counts=counts,
        judged=judged,
        unjudged=unjudged,
        indicators=rows,
        charts=charts,
        outcomes=outcome_rows,
        ranked_names=tuple(s.name_zh for s in ranked),
        ranked_units=tuple(s.unit for s in ranked),
        ranking=rank_rows,
        movers=moved_most,
        status_changes=status_changes,
        alerts=listed,
        alerts_note=alerts_note,
        summary=summary,
    )


def next_month(day: date) -> str:
    """The `YYYY-MM` of the month after `day`'s."""
    return format_month(following_month(day))
