"""What a chart shows (`Chart`, its `Forecast`), what a drawing put on it (`Drawn`), and the
sizes and font every chart uses. No matplotlib here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

FONT_FAMILY = "Noto Sans CJK SC"
FONT_PACKAGE = "fonts-noto-cjk"
MAIL_SIZE = (1200, 700)  # pixels; shown 600 wide in the mail: sharp on a phone at 2×
DPI = 200


class FontMissing(RuntimeError):
    """The CJK font is not installed: the charts would show boxes instead of Chinese."""


@dataclass(frozen=True)
class Forecast:
    """The forecast of the value on `on` (the target date), with its 90 % interval."""

    on: date
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Chart:
    """What to draw. Dates are the days the values stand for (a month's value on its last day).

    `required` is the path's value on `required_on` (default `as_of`, the day the progress is
    read for; for a year's value, the end of its year);
    `change_since`: the values are changes since that day (a division without a published
    baseline), not stocks, and the axis says so.
    """

    division: str
    indicator: str
    plan: str
    unit: str  # shared.plan.Unit: count, per_10k_population, cny, cny_100m, share, score
    actual: Sequence[tuple[date, float]] = ()
    path: Sequence[tuple[date, float]] = ()
    milestones: Sequence[tuple[date, float]] = ()
    target: float | None = None
    target_date: date | None = None
    forecast: Forecast | None = None
    as_of: date | None = None
    required: float | None = None
    change_since: date | None = None
    required_on: date | None = None

    @property
    def title(self) -> str:
        return " · ".join((self.division, self.indicator, chinese_quotes(self.plan)))


@dataclass(frozen=True)
class Drawn:
    """The texts a drawing put on the picture, and its size in pixels."""

    title: str
    figures: str  # the line of key figures under the title
    x_label: str
    y_label: str
    x_ticks: tuple[str, ...]
    legend: tuple[str, ...]
    labels: tuple[str, ...]  # next to the marks: latest value, required, target
    size: tuple[int, int]
    y_range: tuple[float, float] = (0.0, 1.0)  # in the axis' unit (亿元, 万件, ...)
    font_file: str = ""


def chinese_quotes(text: str) -> str:
    """Straight double quotes in pairs become Chinese ones: "十四五" → “十四五”."""
    return re.sub(r'"([^"]*)"', "“\\1”", text)
