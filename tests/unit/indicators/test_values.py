"""Values from folded deltas: opening balances, the city as the sum, ratios, annual values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.indicators.domain.values import Ledger, changed_keys
from services.indicators.metrics import IndicatorCollector, Snapshot
from shared.indicator_events import IndicatorChanged, SeriesPoint, from_kafka, to_kafka
from shared.plan import Plan, default_plan_path, load_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


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
    changed = changed_keys(plan, [("500229", "valid_invention_patents", date(2021, 5, 1))])
    assert changed == {
        ("500229", "valid_invention_patents", date(2021, 5, 1)),
        ("500000", "valid_invention_patents", date(2021, 5, 1)),
        ("500000", ratio, date(2021, 5, 1)),
    }


def test_an_annual_value_is_the_latest_year_with_reports(plan: Plan) -> None:
    ledger = Ledger(plan, ROWS)
    assert ledger.value("500000", "ip_service_revenue_cny") == 70.0
    assert ledger.value("500000", "ip_service_revenue_cny", date(2023, 6, 30)) == 150.5
    assert ledger.value("500000", "ip_service_revenue_cny", date(2022, 11, 30)) is None
    progress = ledger.progress("500000", "ip_service_revenue_cny")
    assert (progress.target, progress.progress) == (1e9, 70.0 / 1e9)


def test_the_collector_leaves_unknown_values_without_a_sample(plan: Plan) -> None:
    snapshot = Snapshot(Ledger(plan, ROWS).current())
    families = {f.name: f for f in IndicatorCollector(snapshot).collect()}
    values = {tuple(s.labels.values()): s.value for s in families["ipr_indicator_value"].samples}
    assert values[("500000", "valid_invention_patents")] == 35004.0
    assert ("500229", "invention_patents_per_10k_population") not in values
    targets = {tuple(s.labels.values()) for s in families["ipr_indicator_target"].samples}
    assert targets == {("500000", "ip_service_revenue_cny"),
                       ("500111", "geographical_indications"),
                       ("500111", "madrid_registrations_cumulative"),
                       ("500111", "ip_pledge_financing_cny_cumulative")}  # fmt: skip


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
