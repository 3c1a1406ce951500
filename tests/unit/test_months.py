"""shared.months: month arithmetic on dates and on `YYYY-MM`."""

from __future__ import annotations

from datetime import date

import pytest

from shared.months import (
    add_months,
    first_of_month,
    format_month,
    month_end,
    month_texts,
    months,
    months_between,
    next_month,
    parse_month,
    previous_month,
    shift_month,
)


def test_parse_and_format() -> None:
    assert parse_month("2021-03") == date(2021, 3, 1)
    assert parse_month(" 2021-12 ") == date(2021, 12, 1)
    assert format_month(date(2021, 3, 31)) == "2021-03"
    assert format_month(date(987, 1, 5)) == "0987-01"
    for bad in ("2021-13", "2021-00", "2021-3", "21-03", "2021-03-01", ""):
        with pytest.raises(ValueError, match="not a month YYYY-MM"):
            parse_month(bad)


def test_adding_months_crosses_years_both_ways() -> None:
    assert add_months(date(2021, 11, 30), 2) == date(2022, 1, 1)
    assert add_months(date(2021, 1, 31), -1) == date(2020, 12, 1)
    assert add_months(date(2021, 1, 15), 0) == date(2021, 1, 1)
    assert add_months(date(2020, 6, 1), 55) == date(2025, 1, 1)
    assert next_month(date(2021, 12, 31)) == date(2022, 1, 1)
    assert previous_month(date(2021, 1, 1)) == date(2020, 12, 1)
    assert first_of_month(date(2021, 2, 28)) == date(2021, 2, 1)


def test_month_end_of_a_date_or_a_text() -> None:
    assert month_end("2024-02") == date(2024, 2, 29)
    assert month_end("2023-02") == date(2023, 2, 28)
    assert month_end(date(2021, 12, 5)) == date(2021, 12, 31)
    assert month_end(date(2021, 4, 1)) == date(2021, 4, 30)


def test_months_between_and_the_months_of_a_span() -> None:
    assert months_between(date(2020, 12, 31), "2021-03") == 3
    assert months_between("2021-03", date(2020, 12, 1)) == -3
    assert months_between("2021-01", "2025-12") == 59
    assert months(date(2020, 11, 20), date(2021, 2, 1)) == [
        date(2020, 11, 1), date(2020, 12, 1), date(2021, 1, 1), date(2021, 2, 1)
    ]  # fmt: skip
    assert months("2021-05", "2021-04") == []
    assert shift_month("2022-01", -1) == "2021-12"
    assert shift_month("2022-12", 13) == "2024-01"
    assert month_texts("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
