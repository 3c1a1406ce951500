"""The bulletin's report model (pure), its HTML escaping, and its error when the API is away."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iprwatch.cli import main
from iprwatch.stack.processes import LOOPBACK, free_port
from shared.bulletin import model, render
from shared.plans import load_plans
from shared.trajectory import month_end

PLAN = load_plans().get("chongqing-14th-fyp")
AREA = "500000"
KEY = "valid_invention_patents"
REVENUE = "ip_service_revenue_cny"


def item(code: str, key: str, value: float | None, baseline: float | None = None) -> dict[str, Any]:
    target = PLAN.target_for(code, key)
    return {
        "district": code, "indicator": key, "value": value, "baseline": baseline,
        "unit": PLAN.indicator(key).unit, "target": None if target is None else target.value,
        "required": None, "progress": None,
    }  # fmt: skip


CURRENT = [
    item(AREA, KEY, 41_000.0, 30_000.0),
    item(AREA, "high_value_invention_patents", 120.0),
    item(AREA, REVENUE, 9.5e8),
    item("500112", KEY, 35.0),
    item("500101", KEY, 35.0),
    item("500103", KEY, 50.0),
    item("500104", KEY, -2.0),
]
PREVIOUS = [
    item(AREA, KEY, 40_000.0, 30_000.0),
    item(AREA, "high_value_invention_patents", 100.0),
    item(AREA, REVENUE, 9.5e8),
    item("500112", KEY, 30.0),
    item("500101", KEY, 35.0),
    item("500103", KEY, 44.0),
    item("500104", KEY, 0.0),
]
SERIES = {
    (AREA, KEY): [(month_end(f"2022-{m:02d}"), 39_000.0 + 1000 * (m - 1)) for m in (1, 2, 3)],
    # the 2021 revenue, reported: the path asks 2021's year end of a linear 0 → 10亿 path
    (AREA, REVENUE): [(month_end("2021-12"), 1.5e8)],
}


def bulletin(month: str = "2022-03", alerts: list[dict[str, Any]] | None = None) -> model.Bulletin:
    return model.build(PLAN, month, date(2022, 4, 2), CURRENT, PREVIOUS, SERIES, alerts, "拒绝连接")


def test_the_area_rows_label_changes_and_this_months_moves() -> None:
    rows = {r.key: r for r in bulletin().indicators}
    patents = rows[KEY]
    assert (patents.value, patents.previous, patents.change, patents.baseline) == (
        "4.1万件", "4万件", "+1,000件", "3万件",
    )  # fmt: skip
    assert patents.status == "no_target" and not patents.is_change
    high_value = rows["high_value_invention_patents"]  # no baseline: a change, labelled so
    assert high_value.is_change and high_value.value == "较2020年末 +120件"
    assert high_value.change == "+20件"
    revenue = rows[REVENUE]  # a year's figure: no monthly change
    assert (revenue.value, revenue.target, revenue.change) == ("9.5亿元", "10亿元", "—")
    assert revenue.status == "behind" and revenue.status_zh == "落后于进度"  # 1.5亿 < 2亿


def test_the_summary_counts_the_judged_pairs() -> None:
    b = bulletin()
    # the city's revenue (behind) and 大足区's three targets without any data
    assert b.counts == {"behind": 1, "no_data": 3} and b.judged == 4
    assert b.summary[0] == (
        "截至2022年3月末,在设有目标的 4 项指标中,符合进度 0 项,存在风险 0 项,"
        "落后于进度 1 项,暂无数据 3 项。"
    )
    assert b.unjudged == 39 * 13 - 4 and not b.ended and b.state == "实施中"
    assert b.period == "2021年1月—2025年12月" and b.as_of == date(2022, 3, 31)


def test_the_ranking_orders_by_the_increase_and_shares_ties() -> None:
    b = bulletin()
    top = [(r.rank, r.division, r.increases[0], r.this_month[0]) for r in b.ranking[:3]]
    assert top == [
        (1, "渝中区", "+50件", "+6件"),
        (2, "万州区", "+35件", "±0件"),
        (2, "渝北区", "+35件", "+5件"),
    ]
    assert b.ranking[3].division == "大渡口区" and b.ranking[3].increases[0] == "−2件"
    assert b.ranking[4].rank == 5 and b.ranking[4].increases[0] == "—"  # no data: last
    assert b.ranked_names[0] == "有效发明专利"
    dazu = next(r for r in b.ranking if r.division == "大足区")
    assert dazu.targets == "暂无数据 3"
    assert model.ChangeRow("有效发明专利", "渝中区", "+6件") in b.movers


def test_an_ended_plan_is_summed_up_by_its_final_evaluation() -> None:
    series = {**SERIES, (AREA, REVENUE): [(month_end("2025-12"), 1.2e9)]}
    b = model.build(PLAN, "2026-01", date(2026, 2, 2), CURRENT, PREVIOUS, series, [], None)
    assert b.ended and b.state == "已结束"
    assert b.counts == {"achieved": 1, "no_data": 3}
    assert b.summary[0].startswith(
        "本规划已于2025年12月31日结束。在设有目标的 4 项指标中,已实现 1 项"
    )
    revenue = next(o for o in b.outcomes if o.indicator == "知识产权服务业营业收入")
    assert (revenue.value, revenue.target, revenue.outcome_zh) == ("12亿元", "10亿元", "已实现")


def test_status_changes_from_last_month_are_listed() -> None:
    # January's value of 2021 is not judged before the year ends; in 2022 it is
    series = {**SERIES, (AREA, REVENUE): [(month_end("2021-12"), 1.5e8)]}
    b = model.build(PLAN, "2022-01", date(2022, 2, 2), CURRENT, PREVIOUS, series, [], None)
    assert [(c.division, c.indicator, c.before, c.after) for c in b.status_changes] == [
        ("重庆市", "知识产权服务业营业收入", "暂无数据", "落后于进度")
    ]


def test_alerts_of_the_plan_that_fire_are_listed_and_an_absent_service_is_said() -> None:
    alerts = [
        {"plan": PLAN.id, "district": "500112", "indicator": KEY, "state": "firing",
         "status": "behind", "severity": "critical", "value": 12.0, "required": 30.5,
         "firing_since": "2022-03-05T01:00:00+00:00", "active_since": None},
        {"plan": PLAN.id, "district": "500101", "indicator": KEY, "state": "inactive",
         "status": "on_track", "severity": "warning", "value": 1.0, "required": 1.0},
        {"plan": "other", "district": "500101", "indicator": KEY, "state": "firing",
         "status": "behind", "severity": "critical", "value": 1.0, "required": 2.0},
    ]  # fmt: skip
    b = bulletin(alerts=alerts)
    assert b.alerts == [
        model.AlertRow("渝北区", "有效发明专利", "告警中", "落后于进度", "严重", "12件", "30.5件",
                       "2022-03-05"),
    ]  # fmt: skip
    assert b.alerts_note == "生成本报告时,本规划有 1 条告警(告警中或待确认)。"
    absent = bulletin(alerts=None)
    assert absent.alerts is None and "告警服务暂时无法访问" in absent.alerts_note
    assert "拒绝连接" in absent.alerts_note


def test_the_html_escapes_what_it_shows() -> None:
    b = dataclasses.replace(bulletin(), plan_name='<script>alert("x")</script>')
    page = render.html(b, images=[{"src": "data:,", "alt": "图"}] * len(b.charts))
    assert "<script>" not in page and "&lt;script&gt;" in page
    for heading in ("一、总体情况", "二、重庆市主要指标完成情况", "三、区县排名", "四、本月变化"):
        assert heading in page


def test_an_unreachable_api_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    monkeypatch.setenv("IPRWATCH_INDICATORS_URL", url)
    assert main(["report", "--out", str(tmp_path)]) == 1
    said = " ".join(capsys.readouterr().err.split())
    assert f"the indicators API at {url} cannot be reached" in said
    assert "IPRWATCH_INDICATORS_URL" in said
    assert not list(tmp_path.iterdir())


def test_months() -> None:
    assert model.previous_month("2022-01") == "2021-12"
    assert model.month_label("2022-03") == "2022年3月"
