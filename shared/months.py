"""Calendar months, one way everywhere: a month is the `date` of its first day, or its text
`YYYY-MM` (the contract's `period`, the API's `month`).

Pure functions of the standard library; `month_end` and `months_between` take either form.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def parse_month(text: str) -> date:
    """`YYYY-MM` -> the first day of that month; ValueError for anything else."""
    match = _MONTH.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a month YYYY-MM: {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def format_month(day: date) -> str:
    """The `YYYY-MM` of `day`'s month."""
    return f"{day.year:04d}-{day.month:02d}"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, count: int) -> date:
    """The first day of the month `count` months after `day`'s (before it if negative)."""
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return add_months(day, 1)


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return add_months(day, -1)


def _as_date(month: date | str) -> date:
    return parse_month(month) if isinstance(month, str) else month


def month_end(month: date | str) -> date:
    """The last day of a month (a date in it, or `YYYY-MM`)."""
    day = _as_date(month)
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def months_between(start: date | str, end: date | str) -> int:
    """Whole months from `start`'s month to `end`'s: 2020-12-31 to 2021-03 = 3."""
    first, last = _as_date(start), _as_date(end)
    return (last.year - first.year) * 12 + last.month - first.month


def months(first: date | str, last: date | str) -> list[date]:
    """The first day of every month from `first`'s to `last`'s, inclusive (empty if last is
    earlier)."""
    start = first_of_month(_as_date(first))
    return [add_months(start, n) for n in range(months_between(start, last) + 1)]


def shift_month(month: str, count: int) -> str:
    """`YYYY-MM` moved by `count` months: shift_month("2022-01", -1) == "2021-12"."""
    return format_month(add_months(parse_month(month), count))


def month_texts(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last`, inclusive."""
    return [format_month(m) for m in months(first, last)]
