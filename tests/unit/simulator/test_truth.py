"""The reference fold: each rule of the semantics of docs/architecture.md, on hand-made events."""

from __future__ import annotations

import tracemalloc
from datetime import date
from typing import Any

import pytest

from iprwatch.simulator.truth import GroundTruth
from shared.plan import Plan, default_plan_path, load_plan

JAN, FEB, MAR = date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def ev(n: str, type_: str, subject: str | None, time: str, **data: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0", "id": n, "source": "/test", "type": f"cn.ipr.{type_}",
        "time": time, "data": {"district": "500112", **data},
    }  # fmt: skip
    if subject is not None:
        event["subject"] = subject
    return event


def fold(
    plan: Plan, events: list[dict[str, Any]], months: tuple[date, ...] = (JAN, FEB, MAR)
) -> dict[tuple[str, str], dict[date, Any]]:
    truth = GroundTruth(plan)
    for event in events:
        truth.add(event)
    return truth.series(months)


def test_an_act_counts_once_whatever_its_id_and_order(plan: Plan) -> None:
    grant = ev("a", "patent.invention.granted", "ZL1", "2023-01-05T10:00:00+08:00", high_value=True)
    lapse = ev("b", "patent.invention.lapsed", "ZL1", "2023-02-10T10:00:00+08:00")
    events = [lapse, grant, grant, {**grant, "id": "a-again"}, {**lapse, "id": "b-again"}]
    series = fold(plan, events)
    assert series[("500112", "valid_invention_patents")] == {JAN: 1, FEB: 0, MAR: 0}
    assert series[("500112", "high_value_invention_patents")] == {JAN: 1, FEB: 0, MAR: 0}
    assert series[("500000", "valid_invention_patents")] == {JAN: 35001, FEB: 35000, MAR: 35000}


def test_transfer_restore_and_reclassification_follow_the_right(plan: Plan) -> None:
    events = [
        ev("r", "patent.invention.restored", "ZL2", "2023-03-02T00:00:00+08:00", district="500101"),
        ev("g", "patent.invention.granted", "ZL2", "2023-01-05T00:00:00+08:00"),
        ev("c", "patent.invention.reclassified", "ZL2", "2023-01-20T00:00:00+08:00",
           high_value=True),
        ev("t", "patent.invention.transferred", "ZL2", "2023-02-01T00:00:00+08:00",
           district="500101", from_district="500112"),
        ev("l", "patent.invention.lapsed", "ZL2", "2023-02-20T00:00:00+08:00", district="500101"),
    ]  # fmt: skip
    series = fold(plan, events)
    assert series[("500112", "valid_invention_patents")] == {JAN: 1, FEB: 0, MAR: 0}
    assert series[("500112", "high_value_invention_patents")] == {JAN: 1, FEB: 0, MAR: 0}
    assert series[("500101", "valid_invention_patents")] == {JAN: 0, FEB: 0, MAR: 1}
    assert series[("500101", "high_value_invention_patents")] == {JAN: 0, FEB: 0, MAR: 1}
    # A district has no opening balance: its change is no stock to divide, the ratio unknown.
    assert series[("500101", "invention_patents_per_10k_population")][MAR] is None


def test_baseline_acts_move_nothing_and_months_are_shanghai_months(plan: Plan) -> None:
    events = [
        ev("old", "patent.invention.granted", "ZL0", "2020-12-31T23:00:00+08:00"),
        # 2023-01-31 17:00 UTC is 2023-02-01 01:00 in Shanghai: February.
        ev("utc", "pct.application.filed", "PCT1", "2023-01-31T17:00:00Z"),
    ]
    series = fold(plan, events)
    assert series[("500112", "valid_invention_patents")] == {JAN: 0, FEB: 0, MAR: 0}
    assert series[("500112", "pct_applications_cumulative")] == {JAN: 0, FEB: 1, MAR: 1}
    assert series[("500000", "pct_applications_cumulative")] == {JAN: 1645, FEB: 1646, MAR: 1646}


def test_trademark_lapse_takes_its_flags_with_it(plan: Plan) -> None:
    events = [
        ev("l", "trademark.lapsed", "TM1", "2023-03-01T00:00:00+08:00"),
        ev("r", "trademark.registered", "TM1", "2023-01-01T00:00:00+08:00", agricultural=True,
           geographical_indication=True),
        ev("p", "gi.product.registered", "GI1", "2023-02-01T00:00:00+08:00"),
    ]  # fmt: skip
    series = fold(plan, events)
    assert series[("500112", "agricultural_product_trademarks")] == {JAN: 1, FEB: 1, MAR: 0}
    assert series[("500112", "geographical_indications")] == {JAN: 1, FEB: 2, MAR: 1}
    assert series[("500000", "geographical_indications")] == {JAN: 279, FEB: 280, MAR: 279}


def test_a_later_revenue_report_replaces_the_earlier_whatever_the_arrival(plan: Plan) -> None:
    def report(n: str, day: str, year: int, amount: float, district: str = "500112") -> Any:
        return ev(n, "service.revenue.reported", None, f"{day}T00:00:00+08:00", year=year,
                  amount_cny=amount, district=district)  # fmt: skip

    first, fix = report("r1", "2023-12-05", 2023, 100.0), report("r2", "2023-12-20", 2023, 80.0)
    other = report("r3", "2023-12-11", 2023, 5.0, district="500101")
    next_year = report("r4", "2024-03-01", 2024, 7.0)
    nov, dec, jan = date(2023, 11, 1), date(2023, 12, 1), date(2024, 1, 1)
    dec_2024 = date(2024, 12, 1)
    series = fold(
        plan,
        [fix, other, first, {**first, "id": "r1-again"}, next_year],
        months=(nov, dec, jan, dec_2024),
    )
    # An annual value counts from December of its year: the latest year's value since then.
    assert series[("500112", "ip_service_revenue_cny")] == {
        nov: None, dec: 80.0, jan: 80.0, dec_2024: 7.0,
    }  # fmt: skip
    assert series[("500000", "ip_service_revenue_cny")] == {
        nov: None, dec: 85.0, jan: 85.0, dec_2024: 7.0,
    }  # fmt: skip


def test_ratios_need_a_known_population(plan: Plan) -> None:
    series = fold(plan, [ev("g", "patent.invention.granted", "ZL9", "2023-01-05T00:00:00+08:00",
                            district="500229")])  # fmt: skip
    assert series[("500229", "valid_invention_patents")][JAN] == 1
    assert series[("500229", "invention_patents_per_10k_population")][JAN] is None
    assert series[("500000", "invention_patents_per_10k_population")][JAN] == (
        35001 * (10_000 / 32054159)
    )
    assert series[("500000", "high_value_invention_patents_per_10k_population")][JAN] is None


def test_pledges_sum_their_amounts(plan: Plan) -> None:
    events = [
        ev("p1", "finance.pledge.registered", "PL1", "2023-01-05T00:00:00+08:00",
           district="500111", amount_cny=3_000_000.0),
        ev("p2", "finance.pledge.registered", "PL2", "2023-03-05T00:00:00+08:00",
           district="500111", amount_cny=2_500_000.0),
    ]  # fmt: skip
    series = fold(plan, events + events)
    assert series[("500111", "ip_pledge_financing_cny_cumulative")] == {
        JAN: 3_000_000.0, FEB: 3_000_000.0, MAR: 5_500_000.0,
    }  # fmt: skip


def test_a_lapse_of_a_right_of_the_baseline_stock_counts_without_its_grant(plan: Plan) -> None:
    # Granted before 2021 (in the baseline, never sent): the lapse alone moves the total.
    lapse = ev("old", "patent.invention.lapsed", "ZL2015000001", "2023-02-10T10:00:00+08:00")
    series = fold(plan, [lapse, {**lapse, "id": "old-again"}])
    assert series[("500112", "valid_invention_patents")] == {JAN: 0, FEB: -1, MAR: -1}
    assert series[("500112", "high_value_invention_patents")] == {JAN: 0, FEB: 0, MAR: 0}
    assert series[("500000", "valid_invention_patents")] == {JAN: 35000, FEB: 34999, MAR: 34999}


def test_the_reference_fold_keeps_no_python_object_per_event(plan: Plan) -> None:
    # Its keys and the rights' acts live in a temporary SQLite file: at scale 1 (1.6 million
    # events) a set of ids and a list of acts per right took over 1 GB.
    truth = GroundTruth(plan)
    truth.add(ev("warm", "trademark.registered", "TM-warm", "2023-01-05T00:00:00+08:00"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(3_000):
            day = f"2023-{n % 12 + 1:02d}-05T00:00:00+08:00"
            truth.add(ev(f"t{n}", "trademark.registered", f"TM{n}", day, agricultural=n % 2 == 0))
            truth.add(ev(f"w{n}", "copyright.work.registered", f"WR{n}", day))
            truth.add(ev(f"t{n}", "trademark.registered", f"TM{n}", day))  # a repeat
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000  # bytes, for 9,000 events: the old structure held some 4 MB
    assert (truth.tally.events, truth.tally.duplicate_ids) == (9_001, 3_000)
    series = truth.series((date(2023, 12, 1),))
    assert series[("500112", "valid_registered_trademarks")][date(2023, 12, 1)] == 3_001
    assert series[("500112", "agricultural_product_trademarks")][date(2023, 12, 1)] == 1_500
