"""Numbers and times as Chinese officials read them: 万 and 亿, units, Beijing time.

Shared by what officials read: the alert mail, its charts, the board and the bulletin.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The plan's units (shared.plan.Unit) as officials write them after a number.
UNIT_ZH = {
    "count": "件",
    "per_10k_population": "件/万人",
    "cny": "元",
    "cny_100m": "亿元",
    "share": "%",
    "score": "分",
}
# What a unit measures, for an axis label: 数量(件), 金额(亿元), 占比(%).
QUANTITY_ZH = {
    "count": "数量",
    "per_10k_population": "每万人拥有量",
    "cny": "金额",
    "cny_100m": "金额",
    "share": "占比",
    "score": "得分",
}


def plain(number: float, decimals: int = 2) -> str:
    """At most `decimals` decimals, no trailing zeros, thousands separated: 9999.5 → "9,999.5"."""
    text = f"{number:,.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def chinese_amount(value: float, unit: str = "count") -> str:
    """1.5e9 → "15亿", 52300 → "5.23万", 7 → "7"; yuan amounts get "元"."""
    magnitude = abs(value)
    if magnitude >= 1e8:
        text = plain(value / 1e8) + "亿"
    elif magnitude >= 1e4:
        text = plain(value / 1e4) + "万"
    else:
        text = plain(value)
    return text + ("元" if unit == "cny" else "")


def with_unit(value: float, unit: str) -> str:
    """A number with its unit: "5.23万件", "15亿元", "3.5亿元", "12.5%", "8.1件/万人"."""
    if unit == "share":
        return plain(value * 100, 1) + "%"
    if unit in ("count", "cny"):
        return chinese_amount(value) + UNIT_ZH[unit]
    return plain(value) + UNIT_ZH.get(unit, "")


def axis_scale(largest: float, unit: str) -> tuple[float, str]:
    """How an axis shows values up to `largest`: the divisor and the unit of its label.

    Counts and yuan switch to 万 / 亿 like `chinese_amount` (50000 件 → "万件" with ticks 5);
    shares show percent (divisor 0.01); the other units are shown as they are.
    """
    if unit in ("count", "cny"):
        base = UNIT_ZH[unit]
        if abs(largest) >= 1e8:
            return 1e8, "亿" + base
        if abs(largest) >= 1e4:
            return 1e4, "万" + base
        return 1.0, base
    if unit == "share":
        return 0.01, "%"
    return 1.0, UNIT_ZH.get(unit, "")


def beijing_time(moment: datetime) -> str:
    """ "2025-03-01 09:30 (北京时间)"."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + " (北京时间)"
