"""`shared.outcomes`: an ended plan's result per (division, indicator)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.outcomes import Outcome, outcome, outcomes, targeted_keys
from shared.plan import Plan, default_plan_path, load_plan
from shared.status import month_points

GI, MADRID = "geographical_indications", "madrid_registrations_cumulative"
REVENUE = "ip_service_revenue_cny"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def test_a_count_is_judged_on_the_target_month(plan: Plan) -> None:
    gi = outcome(plan, "500111", GI, month_points([("2025-06", 5.0), ("2025-12", 7.0)]))
    assert gi == Outcome(plan.id, "500111", GI, "achieved", 7.0, 7.0, 0.0, "2025-12",
                         date(2025, 12, 31))  # fmt: skip
    # A later value (after the target date) never counts; a level stands until it changes.
    madrid = outcome(plan, "500111", MADRID, month_points([("2025-11", 8.0), ("2026-02", 11.0)]))
    assert (madrid.outcome, madrid.value, madrid.shortfall, madrid.period, madrid.on) == (
        "missed", 8.0, 2.0, "2025-12", date(2025, 11, 30),
    )  # fmt: skip


def test_an_annual_value_is_the_target_years_never_a_later_partial_year(plan: Plan) -> None:
    points = month_points([("2024-12", 7.0e8), ("2025-12", 9.79e8), ("2026-06", 2.0e9)])
    revenue = outcome(plan, "500000", REVENUE, points)
    assert (revenue.outcome, revenue.value, revenue.period) == ("missed", 9.79e8, "2025")
    assert revenue.shortfall == pytest.approx(2.1e7, 1e-6)
    later_only = outcome(plan, "500000", REVENUE, month_points([("2026-06", 2.0e9)]))
    earlier_only = outcome(plan, "500000", REVENUE, month_points([("2024-12", 2.0e9)]))
    assert (later_only.outcome, earlier_only.outcome) == ("no_data", "no_data")
    assert (later_only.value, later_only.target, later_only.period) == (None, 1.0e9, None)


def test_no_target_and_no_data(plan: Plan) -> None:
    free = outcome(plan, "500112", GI, month_points([("2025-12", 4.0)]))
    assert (free.outcome, free.value, free.target) == ("no_target", 4.0, None)
    found = outcomes(plan, {("500111", GI): month_points([("2025-12", 6.0)])}, targeted_keys(plan))
    assert [(o.division, o.indicator, o.outcome, o.shortfall) for o in found] == [
        ("500000", REVENUE, "no_data", None),
        ("500111", GI, "missed", 1.0),
        ("500111", MADRID, "no_data", None),
        ("500111", "ip_pledge_financing_cny_cumulative", "no_data", None),
    ]
    assert len(outcomes(plan, {})) == 39 * len(plan.indicators)
