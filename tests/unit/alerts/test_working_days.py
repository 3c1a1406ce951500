"""The first working day of a month in mainland China (chinesecalendar's official schedule)."""

from __future__ import annotations

from datetime import date

import pytest

from services.alerts.domain.bulletin_mail import report_month, reported
from services.alerts.domain.working_days import first_working_day, is_working_day
from shared.plans import load_plans


@pytest.mark.parametrize(
    ("year", "month", "first"),
    [
        (2025, 10, date(2025, 10, 9)),  # National Day and Mid-Autumn: 1-8 October off
        (2026, 10, date(2026, 10, 8)),  # 2026: 1-7 October off, Saturday the 10th worked
        (2026, 1, date(2026, 1, 4)),  # New Year 1-3 off; Sunday the 4th is a make-up day
        (2022, 10, date(2022, 10, 8)),  # 1-7 off; Saturday the 8th is a make-up day
        (2026, 3, date(2026, 3, 2)),  # after the Spring Festival: an ordinary Monday
        (2024, 6, date(2024, 6, 3)),  # no holiday: the first Monday
    ],
)
def test_first_working_day(year: int, month: int, first: date) -> None:
    found = first_working_day(year, month)
    assert (found.day, found.holidays_known) == (first, True)


def test_spring_festival_2026_as_the_library_gives_it() -> None:
    off = [date(2026, 2, d) for d in range(15, 24)]  # 15-23 February
    assert [is_working_day(d) for d in off] == [None] * 9
    assert is_working_day(date(2026, 2, 14)) is not None  # Saturday, worked
    assert is_working_day(date(2026, 2, 28)) is not None  # Saturday, worked
    assert is_working_day(date(2026, 2, 24)) is not None


def test_without_holidays_or_without_a_schedule_monday_to_friday() -> None:
    assert first_working_day(2026, 10, holidays=False).day == date(2026, 10, 1)
    assert first_working_day(2026, 1, holidays=False).day == date(2026, 1, 1)
    unknown = first_working_day(2099, 8)  # no schedule for 2099: a Saturday, then Monday
    assert (unknown.day, unknown.holidays_known) == (date(2099, 8, 3), False)


def test_which_plans_have_a_bulletin_of_which_month() -> None:
    plans = load_plans()
    p14, p15 = plans.get("chongqing-14th-fyp"), plans.get("chongqing-15th-fyp")
    assert report_month(date(2026, 1, 4)) == "2025-12"
    assert report_month(date(2026, 3, 2)) == "2026-02"
    assert reported(p14, "2025-12")  # its last month
    assert not reported(p14, "2026-01")
    assert not reported(p15, "2025-12")  # the baseline month is the 14th plan's
    assert reported(p15, "2026-01")
    assert not reported(p14, "2020-12")
