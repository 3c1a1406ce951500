"""Numbers and times as Chinese officials read them: 万 and 亿, Beijing time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _trim(number: float, decimals: int) -> str:
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def chinese_amount(value: float, unit: str = "count") -> str:
    """1.5e9 → "15亿", 52300 → "5.23万", 7 → "7"; yuan amounts get "元"."""
    magnitude = abs(value)
    if magnitude >= 1e8:
        text = _trim(value / 1e8, 2) + "亿"
    elif magnitude >= 1e4:
        text = _trim(value / 1e4, 2) + "万"
    else:
        text = _trim(value, 2)
    return text + ("元" if unit == "cny" else "")


def beijing_time(moment: datetime) -> str:
    """ "2025-03-01 09:30 (北京时间)"."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + " (北京时间)"
