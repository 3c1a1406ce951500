"""A chart in words: the line of key figures under its title and the alt text, with the numbers
as officials read them (万, 亿, units). No matplotlib here."""

from __future__ import annotations

import re
from datetime import date

from shared.charts.model import Chart
from shared.numbers import with_unit


def month_label(day: date) -> str:
    return f"{day.year}年{day.month}月"


def day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _range(low: float, high: float, unit: str) -> str:
    """ "79~112亿元" where both ends share the unit's suffix, else "0.9万~1.2亿元"."""
    a, b = with_unit(low, unit), with_unit(high, unit)
    suffix = re.sub(r"^[-\d.,]*", "", a)
    if suffix and b.endswith(suffix) and re.fullmatch(r"[-\d.,]+", b[: -len(suffix)]):
        return f"{a[: -len(suffix)]}~{b}"
    return f"{a}~{b}"


def figures_line(chart: Chart) -> str:
    """The key figures as one line: 截至…:实际 … · 要求 … · 目标 … · 预测 …(区间)."""
    unit = chart.unit
    parts: list[str] = []
    if chart.actual:
        parts.append(f"实际 {with_unit(chart.actual[-1][1], unit)}")
    if chart.required is not None:
        parts.append(f"要求 {with_unit(chart.required, unit)}")
    if chart.target is not None:
        parts.append(f"目标 {with_unit(chart.target, unit)}")
    if chart.forecast is not None:
        f = chart.forecast
        parts.append(f"预测 {with_unit(f.value, unit)}(90%区间 {_range(f.low, f.high, unit)})")
    elif chart.target is not None:
        parts.append("预测 —(数据不足)")
    line = " · ".join(parts)
    return f"截至{day_label(chart.as_of)}:{line}" if chart.as_of else line


def alt_text(chart: Chart) -> str:
    """The chart in words, with its numbers, for an `<img alt>` and screen readers."""
    unit = chart.unit
    parts = [f"{chart.division}{chart.indicator}走势图"]
    if chart.actual:
        day, value = chart.actual[-1]
        parts.append(f"当前值 {with_unit(value, unit)}(截至{month_label(day)})")
    if chart.required is not None:
        parts.append(f"规划路径要求值 {with_unit(chart.required, unit)}")
    if chart.target is not None:
        when = f"{chart.target_date.year}年末" if chart.target_date else ""
        parts.append(f"{when}目标 {with_unit(chart.target, unit)}")
    if chart.forecast is not None:
        f = chart.forecast
        parts.append(
            f"到期预测值 {with_unit(f.value, unit)}(90%区间 {_range(f.low, f.high, unit)})"
        )
    else:
        parts.append("到期预测值:数据不足,无法预测")
    return ";".join(parts[:1] + [",".join(parts[1:])]) + "。"
