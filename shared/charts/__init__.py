"""Charts officials can read: one indicator of one division against its plan, drawn with
matplotlib (Agg, no GUI) as PNG (mail) or SVG (board, bulletin).

What to draw is a plain `Chart`: the title's parts, the unit, the dated actual series, the
plan's required path with its milestones, the target and its date, the forecast with its 90 %
interval. The picture: a title (division · indicator, the plan below it), a line of the key
figures, dated x ticks (year ends, or months for a short span), a y axis in the unit officials
use (件, 万件, 亿元, %, 件/万人), the latest value, the required value and the target labelled
with their numbers, and a Chinese legend. Colours are Okabe-Ito (safe for colour-blind
readers); lines also differ by style. Text is set in Noto Sans CJK SC (Debian's
fonts-noto-cjk), embedded in the SVG as glyph paths so it renders anywhere.

Every drawing also returns a `Drawn` record of the texts it put on the picture, which tests
and alt texts read instead of the pixels.
"""

from __future__ import annotations

from shared.charts.drawing import cjk_font_file, png, svg
from shared.charts.model import (
    FONT_FAMILY,
    FONT_PACKAGE,
    MAIL_SIZE,
    Chart,
    Drawn,
    FontMissing,
    Forecast,
)
from shared.charts.words import alt_text

__all__ = [
    "FONT_FAMILY",
    "FONT_PACKAGE",
    "MAIL_SIZE",
    "Chart",
    "Drawn",
    "FontMissing",
    "Forecast",
    "alt_text",
    "cjk_font_file",
    "png",
    "svg",
]
