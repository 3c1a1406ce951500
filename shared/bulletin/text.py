"""How the bulletin writes things: Chinese labels of statuses and outcomes, months, days,
signed changes and percentages."""

from __future__ import annotations

from datetime import date

from shared.months import shift_month
from shared.numbers import with_unit

STATUS_ZH: dict[str, str] = {
    "on_track": "符合进度",
    "at_risk": "存在风险",
    "behind": "落后于进度",
    "no_target": "未设目标",
    "no_data": "暂无数据",
}
OUTCOME_ZH: dict[str, str] = {
    "achieved": "已实现",
    "missed": "未实现",
    "no_target": "未设目标",
    "no_data": "暂无数据",
}
ALERT_STATE_ZH = {"firing": "告警中", "pending": "待确认", "inactive": "已恢复"}
STATE_ZH = {"upcoming": "尚未开始", "in_progress": "实施中", "ended": "已结束"}
COUNTED_KINDS = frozenset({"stock", "cumulative", "cumulative_sum"})
RANKED = 3  # indicators in the ranking


def previous_month(month: str) -> str:
    """ "2022-01" → "2021-12"."""
    return shift_month(month, -1)


def month_label(month: str) -> str:
    """ "2022-03" → "2022年3月"."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def since_label(day: date) -> str:
    return f"{day.year}年末" if (day.month, day.day) == (12, 31) else day_label(day)


def signed(value: float, unit: str) -> str:
    text = with_unit(abs(value), unit)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"
