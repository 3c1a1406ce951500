"""`shared.status`: the one status definition, with hand-computed numbers."""

from __future__ import annotations

from datetime import date

import pytest

from shared.plan import Plan, default_plan_path, load_plan
from shared.status import assess, grace_ends, month_points

GI, MADRID = "geographical_indications", "madrid_registrations_cumulative"
PLEDGE, REVENUE = "ip_pledge_financing_cny_cumulative", "ip_service_revenue_cny"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def test_a_count_of_zero_against_a_fraction_of_one_is_no_evidence(plan: Plan) -> None:
    # Dazu's GI on 2021-02-28: the path asks 7 × 59/1826 = 0.22618; 0 is short by less than a
    # whole indication beyond the tolerance: on track (the old rule called it behind).
    a = assess(plan, "500111", GI, month_points([("2021-01", 0.0), ("2021-02", 0.0)]),
               date(2021, 2, 28))  # fmt: skip
    assert (a.status, a.value, a.on, a.plan) == ("on_track", 0.0, date(2021, 2, 28), plan.id)
    assert a.required == pytest.approx(7 * 59 / 1826, 1e-12)
    assert a.shortfall == pytest.approx(7 * 59 / 1826, 1e-12)
    # Two indications short on 2024-06-30 (required 4.8954, 0.95 × that 4.6507): behind.
    b = assess(plan, "500111", GI, [(date(2024, 6, 30), 2.0)], date(2024, 6, 30))
    assert (b.status, b.alerting, b.severity) == ("behind", True, "critical")
    assert b.shortfall == pytest.approx(7 * 1277 / 1826 - 2.0, 1e-12)


def test_the_evidence_rule_holds_for_the_forecast_of_a_count(plan: Plan) -> None:
    # A year of months: 0.12 a month up to 5.0 at month 30: 8.6 at month 60, 0.9 short of
    # 0.95 × 10: on track; 0.1 a month: 8.0, 1.5 short: at risk.
    on = date(2023, 6, 30)
    year = [f"{2022 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}" for i in range(12)]
    slow = [(m, 5.0 - 0.12 * (11 - i)) for i, m in enumerate(year)]
    slower = [(m, 5.0 - 0.1 * (11 - i)) for i, m in enumerate(year)]
    a = assess(plan, "500111", MADRID, month_points(slow), on)
    b = assess(plan, "500111", MADRID, month_points(slower), on)
    assert a.forecast is not None and a.forecast.value == pytest.approx(8.6, 1e-9)
    assert b.forecast is not None and b.forecast.value == pytest.approx(8.0, 1e-9)
    assert (a.status, b.status) == ("on_track", "at_risk")
    assert (b.alerting, b.severity, b.shortfall) == (True, "warning", 0.0)
    # Three months of nothing forecast nothing, but are too few to call a risk.
    flat = month_points([("2021-01", 0.0), ("2021-02", 0.0), ("2021-03", 0.0)])
    c = assess(plan, "500111", GI, flat, date(2021, 3, 31))
    assert c.forecast is not None and (c.forecast.value, c.status) == (0.0, "on_track")


def test_grace_months_at_the_start_suppress_behind(plan: Plan) -> None:
    graced = plan.model_copy(update={"grace_months": 6})
    assert grace_ends(graced) == date(2021, 6, 30) and grace_ends(plan) is None
    # Pledge financing (yuan): nothing lent by 2021-05-31 against 5亿 × 151/1826 asked.
    may = assess(graced, "500111", PLEDGE, [(date(2021, 5, 31), 0.0)], date(2021, 5, 31))
    assert (may.status, may.grace) == ("on_track", True)
    assert may.shortfall == pytest.approx(5e8 * 151 / 1826, 1e-9)
    july = assess(graced, "500111", PLEDGE, [(date(2021, 7, 31), 0.0)], date(2021, 7, 31))
    assert (july.status, july.grace) == ("behind", False)
    plain = assess(plan, "500111", PLEDGE, [(date(2021, 5, 31), 0.0)], date(2021, 5, 31))
    assert plain.status == "behind"


def test_a_year_that_has_not_ended_is_provisional_and_not_judged(plan: Plan) -> None:
    # On 2024-06-30 the 2024 revenue so far (1亿) is not held to the 2024 path: 2023's 4亿 is
    # judged against the path at 2023-12-31 (10亿 × 1095/1826), tolerance 10 %: behind.
    points = month_points([("2022-12", 3.0e8), ("2023-12", 4.0e8), ("2024-05", 1.0e8)])
    a = assess(plan, "500000", REVENUE, points, date(2024, 6, 30))
    assert (a.status, a.value, a.on) == ("behind", 4.0e8, date(2023, 12, 31))
    assert (a.provisional, a.provisional_value, a.provisional_on) == (
        True, 1.0e8, date(2024, 5, 31),
    )  # fmt: skip
    assert a.required == pytest.approx(1e9 * 1095 / 1826, 1e-9)
    assert a.forecast is None  # two completed years: too few for a forecast
    # Only the current year so far: nothing to judge yet.
    early = assess(plan, "500000", REVENUE, month_points([("2021-05", 1.0e7)]), date(2021, 6, 30))
    assert (early.status, early.value, early.provisional, early.provisional_value) == (
        "no_data", None, True, 1.0e7,
    )  # fmt: skip
    assert early.alerting is None


def test_an_ended_plan_is_judged_on_its_target_year_not_the_partial_year_after(
    plan: Plan,
) -> None:
    # 2026-12-01: the 14th plan ended; 2025's 9.79亿 against 10亿, not 2026's 6,856万 so far.
    points = month_points([("2024-12", 7.0e8), ("2025-12", 9.79e8), ("2026-11", 6.856e7)])
    a = assess(plan, "500000", REVENUE, points, date(2026, 12, 1))
    assert (a.status, a.value, a.on, a.required, a.forecast) == (
        "behind", 9.79e8, date(2025, 12, 31), None, None,
    )  # fmt: skip
    assert a.shortfall == pytest.approx(2.1e7, 1e-6)
    done = assess(plan, "500111", GI, month_points([("2025-12", 7.0), ("2026-03", 5.0)]),
                  date(2026, 6, 30))  # fmt: skip
    assert (done.status, done.value, done.shortfall, done.required) == (
        "on_track", 7.0, 0.0, None,
    )  # fmt: skip


def test_no_target_keeps_the_value_and_no_data_is_unknown(plan: Plan) -> None:
    a = assess(plan, "500112", GI, month_points([("2023-01", 3.0)]), date(2024, 1, 1))
    assert (a.status, a.value, a.required, a.target) == ("no_target", 3.0, None, None)
    empty = assess(plan, "500111", GI, [], date(2024, 1, 1))
    assert (empty.status, empty.value, empty.target, empty.alerting) == ("no_data", None, 7.0, None)
    later = assess(plan, "500111", GI, month_points([("2024-02", 9.0)]), date(2024, 1, 31))
    assert later.status == "no_data"  # a month after the day is not known on it


def test_a_plan_without_targets_never_alerts() -> None:
    from shared.plans import load_plans

    fifteenth = load_plans().get("chongqing-15th-fyp")
    a = assess(fifteenth, "500111", GI, month_points([("2026-03", 0.0)]), date(2026, 3, 31))
    assert (a.status, a.alerting, a.value) == ("no_target", False, 0.0)
