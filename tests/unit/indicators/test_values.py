"""A plan's values from plan-free deltas: its months, opening balances (published, derived),
roll-up by code at any level, ratios, annual and reported values, and the changed keys."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.indicators.domain.values import Ledger, Ledgers, changed_keys
from services.indicators.metrics import IndicatorCollector, Snapshot
from shared.indicator_events import IndicatorChanged, SeriesPoint, from_kafka, to_kafka
from shared.plan import Plan, default_plan_path, load_plan
from shared.plans import PlanSet, load_plans


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


@pytest.fixture(scope="module")
def plans() -> PlanSet:
    return load_plans()


ROWS = [
    ("500112", "valid_invention_patents", date(2021, 3, 1), Decimal(5)),
    ("500101", "valid_invention_patents", date(2021, 5, 1), Decimal(-2)),
    ("500229", "valid_invention_patents", date(2021, 5, 1), Decimal(1)),
    ("500103", "ip_service_revenue_cny", date(2022, 12, 1), Decimal("100.5")),
    ("500112", "ip_service_revenue_cny", date(2022, 12, 1), Decimal("50")),
    ("500112", "ip_service_revenue_cny", date(2023, 12, 1), Decimal("70")),
]


def test_the_city_is_the_sum_of_the_districts_on_its_baseline(plan: Plan) -> None:
    ledger = Ledger(plan, ROWS)
    assert ledger.value("500000", "valid_invention_patents") == 35004.0
    assert ledger.value("500112", "valid_invention_patents") == 5.0  # change since 2020
    assert ledger.value("500000", "valid_invention_patents", date(2021, 4, 30)) == 35005.0
    assert ledger.series("500101", "valid_invention_patents") == [
        (date(2021, 1, 1), 0.0), (date(2021, 2, 1), 0.0), (date(2021, 3, 1), 0.0),
        (date(2021, 4, 1), 0.0), (date(2021, 5, 1), -2.0),
    ]  # fmt: skip


def test_ratios_need_a_population_and_an_opening_balance(plan: Plan) -> None:
    ledger = Ledger(plan, ROWS)
    ratio = "invention_patents_per_10k_population"
    assert ledger.value("500000", ratio) == 35004.0 * (10_000 / 32054159)
    assert ledger.value("500112", ratio) is None  # no district baseline: a change, no stock
    assert ledger.value("500229", ratio) is None  # population unknown
    assert ("500000", ratio) in ledger.current()
    assert ("500229", ratio) not in ledger.current()
    changed = changed_keys([plan], [("500229", "valid_invention_patents", date(2021, 5, 1))])
    p = plan.id
    assert changed == {
        (p, "500229", "valid_invention_patents", date(2021, 5, 1)),
        (p, "500000", "valid_invention_patents", date(2021, 5, 1)),
        (p, "500000", ratio, date(2021, 5, 1)),
    }


def test_an_annual_value_is_the_latest_year_with_reports(plan: Plan) -> None:
    ledger = Ledger(plan, ROWS)
    assert ledger.value("500000", "ip_service_revenue_cny") == 70.0
    assert ledger.value("500000", "ip_service_revenue_cny", date(2023, 6, 30)) == 150.5
    assert ledger.value("500000", "ip_service_revenue_cny", date(2022, 11, 30)) is None
    progress = ledger.progress("500000", "ip_service_revenue_cny")
    assert (progress.target, progress.progress) == (1e9, 70.0 / 1e9)


def test_the_collector_leaves_unknown_values_without_a_sample(plan: Plan) -> None:
    snapshot = Snapshot({(plan.id, *k): v for k, v in Ledger(plan, ROWS).current().items()})
    families = {f.name: f for f in IndicatorCollector(snapshot).collect()}
    values = {tuple(s.labels.values()): s.value for s in families["ipr_indicator_value"].samples}
    p = plan.id
    assert values[(p, "500000", "valid_invention_patents")] == 35004.0
    assert (p, "500229", "invention_patents_per_10k_population") not in values
    targets = {tuple(s.labels.values()) for s in families["ipr_indicator_target"].samples}
    assert targets == {(p, "500000", "ip_service_revenue_cny"),
                       (p, "500111", "geographical_indications"),
                       (p, "500111", "madrid_registrations_cumulative"),
                       (p, "500111", "ip_pledge_financing_cny_cumulative")}  # fmt: skip


def test_the_indicator_changed_event_round_trips_through_kafka_form() -> None:
    event = IndicatorChanged(
        plan="chongqing-14th-fyp",
        district="500000", indicator="valid_invention_patents", month="2021-05",
        value=35004.0, month_value=35004.0, seq=3,
        series=(SeriesPoint(month="2021-05", value=35004.0),),
    )  # fmt: skip
    key, value, headers = to_kafka(event, datetime(2026, 1, 1, tzinfo=UTC))
    assert key == b"chongqing-14th-fyp/500000"
    assert dict(headers)["ce_id"] == b"chongqing-14th-fyp/500000/valid_invention_patents/3"
    assert dict(headers)["ce_type"] == b"cn.ipr.indicator.changed"
    assert from_kafka(value, headers) == event
    with pytest.raises(ValueError):
        from_kafka(value, [("ce_type", b"cn.ipr.other")])


VALID = "valid_invention_patents"
REVENUE = "ip_service_revenue_cny"
HISTORY = [
    ("500103", VALID, date(2019, 4, 1), Decimal(7)),  # before every plan: in no plan's months
    ("500103", VALID, date(2021, 2, 1), Decimal(3)),
    ("500103", VALID, date(2025, 12, 1), Decimal(2)),  # the 14th plan's last month
    ("500103", VALID, date(2026, 3, 1), Decimal(4)),  # the next period's
    ("500112", REVENUE, date(2025, 12, 1), Decimal(900)),  # the 2025 revenue
    ("500112", REVENUE, date(2026, 12, 1), Decimal(60)),  # 2026, reported so far
]


def test_two_plans_with_different_baseline_dates_read_one_history(plans: PlanSet) -> None:
    ledgers = Ledgers(plans, HISTORY)
    fourteenth, fifteenth = ledgers["chongqing-14th-fyp"], ledgers["chongqing-15th-fyp"]
    # the 14th: its months are 2021-01..2025-12
    yuzhong = fourteenth.opening("500103", VALID)
    start = float(yuzhong.value) if yuzhong is not None else 0.0
    assert fourteenth.value("500103", VALID) == start + 5  # 2021-02 and 2025-12, not 2019/2026
    assert fourteenth.value("500000", VALID) == 35000.0 + 5  # the city's baseline + 5
    assert fourteenth.value("500000", REVENUE) == 900.0  # 2025's: 2026 is the next plan's
    assert fourteenth.series("500103", VALID)[-1] == (date(2025, 12, 1), start + 5)
    # the 15th: baselines derived from the 14th on 2025-12-31, then its own months
    city = fifteenth.opening("500000", VALID)
    assert city is not None and city.kind == "derived"
    assert city.value == Decimal(35005)
    assert city.source == "derived: chongqing-14th-fyp on 2025-12-31"
    assert fifteenth.value("500000", VALID) == 35005.0 + 4
    assert fifteenth.series("500000", VALID) == [
        (date(2026, 1, 1), 35005.0), (date(2026, 2, 1), 35005.0), (date(2026, 3, 1), 35009.0),
    ]  # fmt: skip
    assert fifteenth.value("500000", REVENUE) == 60.0  # 2026 reported so far
    revenue = fifteenth.progress("500000", REVENUE)
    assert (revenue.baseline, revenue.baseline_kind, revenue.target) == (900.0, "derived", None)


def test_a_division_without_a_stock_in_the_earlier_plan_gets_no_derived_stock(
    plans: PlanSet,
) -> None:
    ledgers = Ledgers(plans, HISTORY)
    fourteenth, fifteenth = ledgers["chongqing-14th-fyp"], ledgers["chongqing-15th-fyp"]
    assert fourteenth.opening("500112", VALID) is None  # a change since 2020 only
    assert fifteenth.opening("500112", VALID) is None
    assert fifteenth.value("500112", "invention_patents_per_10k_population") is None


def test_a_national_plan_rolls_counties_up_to_provinces_and_reads_reports_as_named(
    plans: PlanSet,
) -> None:
    share = "patent_intensive_industries_gdp_share"
    rows = [
        *HISTORY,
        ("500000", share, date(2022, 12, 1), Decimal("0.12")),
        ("500000", share, date(2023, 12, 1), Decimal("0.13")),
        ("100000", share, date(2023, 12, 1), Decimal("0.129")),
    ]
    nation = Ledgers(plans, rows)["national-14th-fyp"]
    assert nation.value("500000", VALID) == 5.0  # 2021-02 + 2025-12 of Yuzhong, no baseline
    assert nation.value("100000", VALID) == 5.0
    assert nation.value("500000", share) == 0.13  # the latest period's report
    assert nation.value("500000", share, date(2023, 6, 30)) == 0.12
    assert nation.value("100000", share) == 0.129  # the nation's own figure, never a sum
    assert nation.series("500000", share)[-1] == (date(2023, 12, 1), 0.13)
    changed = changed_keys([nation.plan], [("500103", VALID, date(2022, 1, 1))])
    assert changed == {
        ("national-14th-fyp", "500000", VALID, date(2022, 1, 1)),
        ("national-14th-fyp", "100000", VALID, date(2022, 1, 1)),
    }
    assert changed_keys([nation.plan], [("500000", share, date(2023, 12, 1))]) == {
        ("national-14th-fyp", "500000", share, date(2023, 12, 1))
    }


def test_a_change_before_a_derived_plan_starts_moves_all_of_its_months(plans: PlanSet) -> None:
    fifteenth = plans.get("chongqing-15th-fyp")
    assert changed_keys([fifteenth], [("500103", VALID, date(2024, 5, 1))]) >= {
        ("chongqing-15th-fyp", "500103", VALID, date(2026, 1, 1)),
        ("chongqing-15th-fyp", "500000", VALID, date(2026, 1, 1)),
    }
    fourteenth = plans.get("chongqing-14th-fyp")
    assert changed_keys([fourteenth], [("500103", VALID, date(2026, 5, 1))]) == set()
    assert changed_keys([fourteenth], [("500103", VALID, date(2020, 5, 1))]) == set()


def test_a_year_not_ended_is_reported_so_far_n_of_n(plans: PlanSet) -> None:
    rows = [
        ("500112", REVENUE, date(2026, 12, 1), Decimal(60)),
        ("500103", REVENUE, date(2026, 12, 1), Decimal(40)),
        ("500103", REVENUE, date(2025, 12, 1), Decimal(900)),
    ]
    fifteenth = Ledgers(plans, rows)["chongqing-15th-fyp"]
    assert fifteenth.reported_so_far(REVENUE, date(2026, 12, 1)) == (2, 38)
    assert fifteenth.value("500000", REVENUE) == 100.0
