"""Official statistics of the loaded plans' `reported` indicators: one report per (division,
indicator, year), published the year after, some corrected later, plausible, and nothing else
of the stream changed."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest

from iprwatch.simulator.generator import generate
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.statistics import NATIONAL_POPULATION, NOISE
from iprwatch.simulator.truth import GroundTruth
from shared.events import CloudEvent, parse_event
from shared.plan import Plan, default_plan_path, load_plan
from shared.plans import PlanSet, load_plans

STATISTIC = "cn.ipr.statistic.reported"
REPORTED = {
    "high_value_invention_patents_per_10k_population", "overseas_invention_patent_grants",
    "ip_royalty_trade_cny_100m", "patent_intensive_industries_gdp_share",
    "copyright_industries_gdp_share", "ip_protection_satisfaction_score",
}  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


@pytest.fixture(scope="module")
def plans() -> PlanSet:
    return load_plans()


def scenario(**changes: Any) -> Scenario:
    return Scenario(date(2021, 1, 1), date(2025, 12, 1), scale=0.001, **changes)


@pytest.fixture(scope="module")
def streams(plan: Plan, plans: PlanSet) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with_statistics = list(generate(plan, scenario(statistics=True), tuple(plans)))
    return with_statistics, list(generate(plan, scenario()))


def test_one_report_per_division_indicator_and_year_some_corrected_later(
    plans: PlanSet, streams: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    events, _ = streams
    reports = [e for e in events if e["type"] == STATISTIC]
    key = Counter((e["data"]["district"], e["data"]["indicator"], e["data"]["period"])
                  for e in reports if e["id"].endswith("-report"))  # fmt: skip
    # Chongqing (500000) is the national plan's only division the simulator covers; 2021 to
    # 2024 are published (April of the next year) within a window ending in 2025-12.
    assert key == Counter({("500000", i, str(y)) for i in REPORTED for y in range(2021, 2025)})
    first = {e["id"].removesuffix("-report"): e for e in reports if e["id"].endswith("-report")}
    corrections = [e for e in reports if e["id"].endswith("-correction")]
    assert len(reports) == 24 + len(corrections) and len(corrections) == 3
    for fix in corrections:
        report = first[fix["id"].removesuffix("-correction")]
        assert fix["data"]["period"] == report["data"]["period"]
        assert fix["data"]["indicator"] == report["data"]["indicator"]
        assert datetime.fromisoformat(fix["time"]) > datetime.fromisoformat(report["time"])
    national = plans.get("national-14th-fyp")
    context = {
        "district_codes": national.district_codes,
        "latest_time": datetime.now(national.zone),
    }
    for event in reports:
        assert isinstance(parse_event(event, context), CloudEvent)
        assert datetime.fromisoformat(event["time"]).year == int(event["data"]["period"]) + 1


def test_values_follow_the_plan_path_for_the_division(
    plans: PlanSet, streams: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    national = plans.get("national-14th-fyp")
    chongqing_share = 32_054_159 / NATIONAL_POPULATION
    for event in (e for e in streams[0] if e["type"] == STATISTIC):
        data = event["data"]
        indicator = national.indicator(data["indicator"])
        assert indicator.baseline is not None and indicator.target is not None
        base, target = indicator.baseline.value, indicator.target.value
        path = base + (target - base) * (int(data["period"]) - 2020) / 5
        if indicator.unit in ("count", "cny_100m"):  # a quantity: Chongqing's share of it
            path *= chongqing_share
        assert abs(data["value"] - path) <= path * NOISE + 1, event
    grants = {e["data"]["period"]: e["data"]["value"] for e in streams[0]
              if e["type"] == STATISTIC and e["id"].endswith("overseas_invention_patent_grants"
                                                             "-2023-report")}  # fmt: skip
    assert 1_541 <= grants["2023"] <= 1_637  # 70,000 nationally on the path x 2.27% = 1,589


def test_the_rest_of_the_stream_and_its_truth_are_unchanged(
    plan: Plan, streams: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    with_statistics, without = streams
    assert [e for e in with_statistics if e["type"] != STATISTIC] == without
    truths = []
    for events in (with_statistics, without):
        truth = GroundTruth(plan)
        for event in events:
            truth.add(event)
        truths.append(truth)
    window = [date(2025, 12, 1)]
    assert truths[0].series(window) == truths[1].series(window)
    assert truths[1].statistics() == {}
    latest = truths[0].statistics()["500000"]
    assert set(latest) == REPORTED and all(len(by_year) == 4 for by_year in latest.values())
    fixes = [e for e in with_statistics if e["type"] == STATISTIC and "correction" in e["id"]]
    assert len(fixes) == 3
    for fix in fixes:
        data = fix["data"]
        assert latest[data["indicator"]][data["period"]] == data["value"]
