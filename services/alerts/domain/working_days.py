"""Working days in mainland China: the monthly bulletin goes out on a month's first one.

A working day is Monday to Friday, except the public holidays the State Council announces each
year, plus its make-up working days (调休: a Saturday or Sunday worked in exchange for a longer
holiday). The calendar comes from `chinesecalendar` (PyPI; module `chinese_calendar`), which
carries each year's official schedule and says so when it has none for a year: then (or with
holiday awareness turned off) a working day is Monday to Friday, and `WorkingDay.holidays_known`
is False so the caller can say so in its log. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class WorkingDay:
    day: date
    holidays_known: bool  # False: Monday to Friday only (turned off, or no data for the year)


def _weekday(day: date) -> bool:
    return day.weekday() < 5


def holidays_known(year: int) -> bool:
    """Whether the library has the official schedule of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, holidays: bool = True) -> WorkingDay | None:
    """`day` as a working day (None if it is not one), Monday to Friday without `holidays`
    or without the year's schedule."""
    if holidays and holidays_known(day.year):
        return WorkingDay(day, True) if chinese_calendar.is_workday(day) else None
    return WorkingDay(day, False) if _weekday(day) else None


def first_working_day(year: int, month: int, holidays: bool = True) -> WorkingDay:
    """The first working day of the month (no month is without one)."""
    day = date(year, month, 1)
    while (found := is_working_day(day, holidays)) is None:
        day += timedelta(days=1)
    return found
