"""A cell of an export (Excel, CSV, NDJSON) as text, a date, a period or a typed value.

Pure: the standard library only. Excel dates come as dates or serial numbers, text dates in
the forms Chinese systems write (2023-05-12, 2023/5/12, 20230512, 2023年5月12日).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from shared.months import format_month, month_end

Cell = str | int | float | bool | date | datetime | None
Record = Mapping[str, Cell]
Kind = Literal["text", "bool", "number", "integer", "period"]
EXCEL_EPOCH = date(1899, 12, 30)


def cell_text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious `.0`, dates as ISO, blanks as ''."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


def first_filled(record: Record, columns: Sequence[str]) -> str:
    for column in columns:
        text = cell_text(record.get(column))
        if text:
            return text
    return ""


_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_PERIOD = re.compile(r"(?P<y>\d{4})\s*年?(?:\s*[-/.]?\s*(?P<m>\d{1,2})\s*月?)?")


def parse_date(cell: Cell) -> date:
    """A date from Excel (a date or a serial number) or text: 2023-05-12, 2023/5/12, 2023.5.12,
    20230512, 2023年5月12日 (a time after it is ignored). Raises ValueError."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool) and 1 <= cell < 2958466:
        if 19000000 <= cell <= 21001231:  # 20230512 as a number
            return parse_date(str(int(cell)))
        return EXCEL_EPOCH + timedelta(days=int(cell))
    text = cell_text(cell)
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    return date(int(match["y"]), int(match["m"]), int(match["d"]))


def parse_period(cell: Cell) -> str:
    """A period `YYYY` or `YYYY-MM` from 2023, '2023年', '2023-06', '2023年6月', a date (month)."""
    if isinstance(cell, datetime | date):
        return format_month(cell)
    text = cell_text(cell)
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValueError(f"not a year or a month: {text!r}")
    if match["m"] is None:
        return match["y"]
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {text!r}")
    return f"{match['y']}-{month:02d}"


def period_end(period: str) -> date:
    """The last day of a period `YYYY` or `YYYY-MM`."""
    return date(int(period), 12, 31) if len(period) == 4 else month_end(period)


_TRUE = {"true", "1", "yes", "y", "是", "有", "√", "✓", "y1"}
_FALSE = {"false", "0", "no", "n", "否", "无", "×", ""}


def convert(kind: Kind, value: Any, name: str) -> Any:
    """A cell's value as a `data` field of `kind`; ValueError naming the field."""
    if kind == "text" or not isinstance(value, str):
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        if kind == "period" and not isinstance(value, str):
            return parse_period(value)
        return value
    text = value.strip()
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{name}: not a yes/no value: {text!r}")
    if kind == "period":
        return parse_period(text)
    cleaned = text.replace(",", "").replace("，", "").removesuffix("%")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{name}: not a number: {text!r}") from None
    if kind == "integer":
        if not number.is_integer():
            raise ValueError(f"{name}: not a whole number: {text!r}")
        return int(number)
    return number
