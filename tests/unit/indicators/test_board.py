"""The board's pages from a known ledger: figures, labels, statuses, ranks, map matching."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from services.indicators.domain.values import Ledgers, Row
from services.indicators.entrypoints.board import render_board, render_division
from services.indicators.entrypoints.board.maps import division_map, stem
from shared.plans import PlanSet, load_plans
from shared.status import assess

VIP = "valid_invention_patents"
REVENUE = "ip_service_revenue_cny"
ON = date(2024, 6, 30)  # the 14th plan in progress


@pytest.fixture(scope="module")
def plans() -> PlanSet:
    return load_plans()


def rows() -> list[Row]:
    found: list[Row] = [("500112", VIP, date(2021, m, 1), Decimal(5)) for m in range(1, 13)]
    found += [("500101", VIP, date(2022, 3, 1), Decimal(7))]
    found += [("500243", VIP, date(2022, 3, 1), Decimal(-2))]
    found += [("500112", REVENUE, date(2023, 12, 1), Decimal(123_456_789))]
    return found


def cell_of(page: str, code: str, key: str) -> str:
    found = re.search(rf'<tr data-code="{code}".*?<td class="([^"]+)" data-key="{key}">(.*?)</td>',
                      page, re.S)  # fmt: skip
    assert found is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())
    return f"{found.group(1)}: {text}"


def test_the_maps_find_every_division_by_code_or_by_its_former_name(plans: PlanSet) -> None:
    chongqing = division_map(plans.get("chongqing-14th-fyp"))
    assert chongqing is not None and chongqing.name == "重庆"
    assert (len(chongqing.by_code), chongqing.missing) == (36, ())
    assert {c: chongqing.features[c] for c in chongqing.by_name} == {
        "500155": "梁平县", "500156": "武隆县",
    }  # fmt: skip
    national = division_map(plans.get("national-14th-fyp"))
    assert national is not None and (len(national.by_code), national.by_name) == (31, ())
    assert national.features["150000"] == "内蒙古"
    assert (stem("酉阳土家族苗族自治县"), stem("忠县"), stem("梁平区")) == ("酉阳", "忠县", "梁平")


def test_the_board_shows_changes_as_changes_statuses_from_assess_and_ranks(
    plans: PlanSet,
) -> None:
    ledgers = Ledgers(plans, rows())
    ledger = ledgers["chongqing-14th-fyp"]
    page = render_board(ledger, plans, ON, sort=VIP)
    # no opening balance: a signed change, labelled, never a stock
    assert cell_of(page, "500112", VIP) == "st-no_target: +60件 基期以来增量 – 无目标 第1名"
    assert cell_of(page, "500243", VIP) == "st-no_target: -2件 基期以来增量 – 无目标 第38名"
    # ranked by value, best first: 渝北 60, 万州 7, then the divisions at 0, 彭水 -2 last
    order = re.findall(r'<tr data-code="(\d{6})"', page)
    assert order[:3] == ["500000", "500112", "500101"] and order[-1] == "500243"
    assert 'aria-sort="descending"' in page
    # the revenue card: status by shared.status.assess, the one definition
    series = ledger.series("500000", REVENUE)
    judged = assess(ledger.plan, "500000", REVENUE, series, ON)
    card = re.search(rf'<li class="card st-(\w+)" data-key="{REVENUE}">(.*?)</li>', page, re.S)
    assert card is not None and card.group(1) == judged.status
    assert '<span class="value">1.23亿元</span>' in card.group(2)
    assert '<span class="target-value">10亿元</span>' in card.group(2)
    assert '<span class="progress">12%</span>' in card.group(2)
    data = json.loads(re.search(r'id="board-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert data["map"] == {"script": "/assets/maps/chongqing.js", "name": "重庆"}
    yubei = next(d for d in data["divisions"] if d["code"] == "500112")
    assert yubei["cells"][VIP] == {"status": "no_target", "value": 60.0, "shown": "+60件"}


def test_the_next_plan_labels_derived_baselines_and_an_ended_plan_its_evaluation(
    plans: PlanSet,
) -> None:
    ledgers = Ledgers(plans, rows())
    following = render_board(ledgers["chongqing-15th-fyp"], plans, date(2026, 3, 1))
    card = re.search(rf'data-key="{VIP}">(.*?)</li>', following, re.S)
    assert card is not None and '<span class="tag derived">基期为推算值</span>' in card.group(1)
    ended = render_board(ledgers["chongqing-14th-fyp"], plans, date(2026, 3, 1))
    card = re.search(rf'data-key="{REVENUE}">(.*?)</li>', ended, re.S)
    assert card is not None
    # 2025's revenue is unknown: the final evaluation has no data
    assert re.search(r'<p class="final">终期评估（2025）：\s*无数据</p>', card.group(1))


def test_a_plan_without_map_data_says_so_and_shows_the_rest(plans: PlanSet) -> None:
    plan = plans.get("chongqing-14th-fyp")
    elsewhere = plan.model_copy(update={"city": plan.city.model_copy(update={"code": "610000"})})
    ledger = Ledgers([elsewhere], rows())[plan.id]
    page = render_board(ledger, plans, ON)
    assert "本规划暂无地图数据，其余内容照常显示。" in page
    assert "echarts.min.js" not in page and page.count('<li class="card') == 13


def test_a_division_page_has_every_indicator_and_its_chart_data(plans: PlanSet) -> None:
    ledger = Ledgers(plans, rows())["chongqing-14th-fyp"]
    page = render_division(ledger, plans, "500112", ON)
    assert page.count('<tr data-key="') == 13 and page.count('<li id="chart-') == 13
    charts = json.loads(re.search(r'id="division-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    vip = next(c for c in charts if c["key"] == VIP)
    assert vip["change"] is True and vip["points"][11] == ["2021-12", 60.0]
    assert (
        vip["title"] == '渝北区 · 有效发明专利 · 重庆市知识产权保护和运用"十四五"规划(2021—2025年)'
    )
    assert "<script>" not in json.dumps(charts)  # data as JSON, escaped by tojson
