"""A chart's axes: the span of days and of values to show, and the dated ticks (year ends, or
month ends for a short span). No matplotlib here."""

from __future__ import annotations

import math
from datetime import date

from shared.charts.model import Chart
from shared.charts.words import month_label
from shared.months import month_end, months


def bounds(chart: Chart) -> tuple[float, float]:
    values = [v for _, v in chart.actual] + [v for _, v in chart.path]
    values += [v for _, v in chart.milestones]
    values += [x for x in (chart.target, chart.required) if x is not None]
    if chart.forecast is not None:
        values += [chart.forecast.low, chart.forecast.high, chart.forecast.value]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    return low, high if high > low else low + max(abs(low) * 0.1, 1.0)


def x_range(chart: Chart) -> tuple[date, date]:
    days = [d for d, _ in chart.actual] + [d for d, _ in chart.path]
    days += [d for d in (chart.target_date, chart.as_of) if d is not None]
    if chart.forecast is not None:
        days.append(chart.forecast.on)
    if not days:
        today = date.today()
        return date(today.year - 1, 12, 31), date(today.year, 12, 31)
    return min(days), max(days)


def y_range(low: float, high: float) -> tuple[float, float]:
    """From zero, unless every value sits far above it (a stock that starts at 5万 and aims at
    10万): then from a round number below the lowest, so the gap to the path shows."""
    spread = high - low
    if low >= 0 and low <= 0.4 * high:
        return 0.0, high + spread * 0.12
    step = 10 ** math.floor(math.log10(spread)) if spread > 0 else 1.0
    bottom = math.floor((low - spread * 0.08) / step) * step
    return (max(bottom, 0.0) if low >= 0 else bottom), high + spread * 0.12


def ticks(start: date, end: date) -> tuple[list[date], list[str], list[date]]:
    """Year ends ("2021年末") over three years or more, else month ends ("2024年3月").

    The plan speaks of year ends (targets "到2025年末"), so the ticks do too; minor ticks
    at quarter ends (years) or month ends.
    """

    def month_ends(step: int) -> list[date]:
        ends = (month_end(m) for m in months(start, end) if m.month % step == 0)
        return [day for day in ends if start <= day <= end]

    if (end - start).days >= 3 * 365:
        majors = [date(y, 12, 31) for y in range(start.year, end.year + 1)]
        majors = [d for d in majors if start <= d <= end]
        return majors, [f"{d.year}年末" for d in majors], month_ends(3)
    step = 1 if (end - start).days <= 200 else 3
    majors = month_ends(step)
    return majors, [month_label(d) for d in majors], month_ends(1)
