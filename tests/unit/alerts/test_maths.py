"""The trajectory maths with hand-computed numbers: paths, forecasts, statuses."""

from __future__ import annotations

import math
from datetime import date

import pytest

from services.alerts.domain.assessment import assess
from shared.forecast import forecast, t95
from shared.plan import Plan, default_plan_path, load_plan
from shared.trajectory import month_end, months_between, path_value, required_value


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def test_linear_and_compound_paths() -> None:
    assert path_value(100.0, 200.0, "linear", 0.25) == 125.0
    assert path_value(100.0, 200.0, "compound", 0.5) == pytest.approx(100 * math.sqrt(2), 1e-12)
    assert path_value(100.0, 400.0, "compound", 0.5) == pytest.approx(200.0, 1e-12)
    assert path_value(100.0, 200.0, "compound", 0.0) == 100.0
    assert path_value(100.0, 200.0, "compound", 1.0) == pytest.approx(200.0, 1e-12)


def test_a_zero_baseline_grows_linearly_even_on_a_compound_path() -> None:
    assert path_value(0.0, 7.0, "compound", 0.5) == 3.5


def test_dazu_is_measured_from_zero_and_its_target_read_as_the_planned_change(
    plan: Plan,
) -> None:
    # 2020-12-31 → 2024-06-30 is 1277 of the period's 1826 days; GI is compound, baseline 0.
    assert required_value(plan, "500111", "geographical_indications", date(2024, 6, 30)) == (
        pytest.approx(7 * 1277 / 1826, 1e-12)
    )
    assert required_value(plan, "500111", "madrid_registrations_cumulative",
                          date(2023, 6, 30)) == pytest.approx(10 * 911 / 1826, 1e-12)  # fmt: skip


def test_an_annual_value_is_held_to_the_path_at_its_year_end(plan: Plan) -> None:
    # Any day of 2023 asks the 2023 revenue to reach the path on 2023-12-31 (1095/1826).
    for day in (date(2023, 1, 1), date(2023, 7, 1), date(2023, 12, 31)):
        assert required_value(plan, "500000", "ip_service_revenue_cny", day) == pytest.approx(
            1e9 * 1095 / 1826, 1e-12
        )


def test_no_target_means_no_path(plan: Plan) -> None:
    assert required_value(plan, "500112", "geographical_indications", date(2024, 1, 1)) is None
    assert required_value(plan, "500000", "valid_invention_patents", date(2024, 1, 1)) is None


def test_month_helpers() -> None:
    assert month_end("2024-02") == date(2024, 2, 29)
    assert month_end("2023-12") == date(2023, 12, 31)
    assert months_between(date(2020, 12, 31), "2021-03") == 3
    assert months_between(date(2020, 12, 31), "2025-12") == 60


def test_forecast_by_hand() -> None:
    # weights 1/3, 2/3, 1 (Σ 2); x̄ = 4/3, ȳ = 17/6, Sxx = 10/9, Sxy = 16/9: slope 1.6,
    # intercept 0.7; residuals 0.3, -0.3, 0.1: Σw·r² = 0.1, s² = 0.1 (1 degree of freedom).
    # Forecast at 5 from the latest point (2, 4): 4 + 1.6 × 3 = 8.8.
    # Spread: t(1) = 6.314 × sqrt(0.1 × (1 + 1/2 + (5 - 4/3)² / (10/9))) = 6.314 × sqrt(1.36).
    fit = forecast([(0.0, 1.0), (1.0, 2.0), (2.0, 4.0)], at=5.0)
    assert fit is not None
    assert fit.slope == pytest.approx(1.6, 1e-12)
    assert fit.value == pytest.approx(8.8, 1e-12)
    spread = 6.314 * math.sqrt(1.36)
    assert fit.low == pytest.approx(8.8 - spread, 1e-9)
    assert fit.high == pytest.approx(8.8 + spread, 1e-9)
    assert fit.points == 3


def test_a_straight_line_forecasts_without_spread() -> None:
    fit = forecast([(28.0, 4.8), (29.0, 4.9), (30.0, 5.0)], at=60.0)
    assert fit is not None
    assert [fit.value, fit.low, fit.high] == pytest.approx([8.0, 8.0, 8.0], 1e-9)


def test_too_little_data_gives_no_forecast() -> None:
    assert forecast([], at=60.0) is None
    assert forecast([(1.0, 1.0), (2.0, 2.0)], at=60.0) is None
    assert forecast([(3.0, 1.0), (3.0, 2.0), (3.0, 5.0)], at=60.0) is None  # no time span


def test_only_the_window_counts() -> None:
    old = [(float(x), 100.0) for x in range(10)]
    recent = [(10.0, 1.0), (11.0, 2.0), (12.0, 3.0)]
    fit = forecast(old + recent, at=15.0, window=3)
    assert fit is not None and fit.value == pytest.approx(6.0, 1e-12)


def test_after_the_target_date_the_forecast_is_what_the_series_showed_then() -> None:
    # a running total 1, 2, 3 at months 58..60 (the target month), then a jump to 10 and 11
    series = [(58.0, 1.0), (59.0, 2.0), (60.0, 3.0), (61.0, 10.0), (62.0, 11.0)]
    fit = forecast(series, at=60.0)
    assert fit is not None
    assert fit.value == pytest.approx(3.0, 1e-12)
    assert fit.points == 3


def test_student_t_table() -> None:
    assert (t95(1), t95(2), t95(30), t95(31), t95(1000)) == (6.314, 2.920, 1.697, 1.645, 1.645)


def test_behind_below_the_path_by_more_than_the_tolerance(plan: Plan) -> None:
    a = assess(plan, "500111", "geographical_indications", [("2021-06", 1.0), ("2022-06", 2.0)],
               date(2024, 6, 30))  # fmt: skip
    assert a.status == "behind"
    assert (a.value, a.month, a.target, a.tolerance) == (2.0, "2022-06", 7.0, 0.05)
    assert a.required == pytest.approx(7 * 1277 / 1826, 1e-12)
    assert a.forecast is None  # two points: too little for a forecast
    assert (a.alerting, a.severity) == (True, "critical")


def test_the_tolerance_is_a_share_of_the_required_value(plan: Plan) -> None:
    # Pledge financing (yuan, linear to 5亿, tolerance 10 %) on 2023-06-30: required
    # 5e8 × 911/1826 = 249,452,354.9; behind below 0.9 × that = 224,507,119.4.
    on = date(2023, 6, 30)
    key = "ip_pledge_financing_cny_cumulative"
    inside = assess(plan, "500111", key, [("2023-06", 224_507_120.0)], on)
    below = assess(plan, "500111", key, [("2023-06", 224_507_119.0)], on)
    assert (inside.status, below.status) == ("on_track", "behind")


def test_a_count_is_behind_only_a_whole_unit_beyond_the_tolerance(plan: Plan) -> None:
    # Madrid (a count, tolerance 5 %) on 2023-06-30: 0.95 × 4.98904 = 4.73959; a count is
    # behind only when it is more than one registration short of that: below 3.73959.
    on = date(2023, 6, 30)
    short = [assess(plan, "500111", "madrid_registrations_cumulative", [("2023-06", v)], on)
             for v in (4.73, 3.74, 3.73)]  # fmt: skip
    assert [a.status for a in short] == ["on_track", "on_track", "behind"]
    assert short[2].shortfall == pytest.approx(10 * 911 / 1826 - 3.73, 1e-12)


def test_at_risk_on_the_path_but_forecast_short(plan: Plan) -> None:
    points = [(f"{2022 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}", 3.9 + 0.1 * i) for i in range(12)]
    a = assess(plan, "500111", "madrid_registrations_cumulative", points, date(2023, 6, 30))
    # 0.1 a month over a year, from 5.0 at month 30 to month 60: 8.0 < 0.95 × 10 − 1.
    assert a.status == "at_risk"
    assert a.forecast is not None and a.forecast.value == pytest.approx(8.0, 1e-9)
    assert (a.alerting, a.severity) == (True, "warning")


def test_on_track_when_the_forecast_reaches_the_target(plan: Plan) -> None:
    points = [("2023-04", 4.6), ("2023-05", 4.8), ("2023-06", 5.0)]  # 0.2 a month: 11.0
    a = assess(plan, "500111", "madrid_registrations_cumulative", points, date(2023, 6, 30))
    assert a.status == "on_track"
    assert a.forecast is not None and a.forecast.value == pytest.approx(11.0, 1e-9)


def test_no_target_and_no_data(plan: Plan) -> None:
    assert assess(plan, "500112", "geographical_indications", [("2023-01", 1.0)],
                  date(2024, 1, 1)).status == "no_target"  # fmt: skip
    empty = assess(plan, "500111", "geographical_indications", [], date(2024, 1, 1))
    assert (empty.status, empty.alerting) == ("no_data", None)
    future = assess(plan, "500111", "geographical_indications", [("2024-02", 9.0)],
                    date(2024, 1, 31))  # fmt: skip
    assert future.status == "no_data"  # a month after "today" is not known yet


def test_annual_revenue_by_year(plan: Plan) -> None:
    # 2023's value 4亿 against the path at 2023-12-31: 10亿 × 1095/1826 = 5.9967亿; tolerance
    # 10 %: behind below 5.397亿. Yearly points 1.5, 3, 4 (亿), weights 1/3, 2/3, 1: slope
    # 1.2亿 a year, so 2025: 4 + 1.2 × 2 = 6.4亿.
    points = [("2021-12", 1.5e8), ("2022-12", 3.0e8), ("2023-06", 3.5e8), ("2023-12", 4.0e8)]
    a = assess(plan, "500000", "ip_service_revenue_cny", points, date(2024, 3, 1))
    assert a.status == "behind"
    assert a.required == pytest.approx(1e9 * 1095 / 1826, 1e-9)
    assert a.forecast is not None
    assert a.forecast.value == pytest.approx(6.4e8, 1e-9)
    assert a.forecast.slope == pytest.approx(1.2e8, 1e-9)
