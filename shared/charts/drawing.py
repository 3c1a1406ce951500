"""Drawing a chart with matplotlib (Agg, no GUI) as PNG or SVG: the font, the axes' ranges and
ticks, the marks and their labels, the legend."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib: never a GUI

from matplotlib import dates as mdates  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator  # noqa: E402

from shared.charts import axes  # noqa: E402
from shared.charts.model import (  # noqa: E402
    DPI,
    FONT_FAMILY,
    FONT_PACKAGE,
    MAIL_SIZE,
    Chart,
    Drawn,
    FontMissing,
    chinese_quotes,
)
from shared.charts.words import day_label, figures_line, month_label  # noqa: E402
from shared.numbers import QUANTITY_ZH, axis_scale, plain, with_unit  # noqa: E402

FS = 9.5  # points: at 200 dpi, 26 px of 1200; on a 390 px wide phone screen still 8.5 px

# Okabe & Ito (2008), "Color Universal Design": told apart with any colour vision.
BLUE, ORANGE, VERMILLION, GREY, BLACK = "#0072B2", "#E69F00", "#D55E00", "#666666", "#000000"

LEGEND_ACTUAL = "实际值"
LEGEND_PATH = "规划路径"
LEGEND_MILESTONES = "年度目标"
LEGEND_TARGET = "目标"
LEGEND_FORECAST = "预测 (90% 区间)"


@cache
def cjk_font_file() -> str:
    """The file of Noto Sans CJK SC, registered with matplotlib; `FontMissing` names the package.

    matplotlib's font list is cached on disk: a font installed after the cache was written is
    found among the system's font files and added.
    """
    manager = font_manager.fontManager
    if not any(f.name == FONT_FAMILY for f in manager.ttflist):
        for file in font_manager.findSystemFonts():
            if Path(file).name.startswith("NotoSansCJK"):
                manager.addfont(file)
    props = font_manager.FontProperties(family=FONT_FAMILY)
    try:
        return str(font_manager.findfont(props, fallback_to_default=False))
    except ValueError:
        raise FontMissing(
            f"the charts need the font {FONT_FAMILY!r}, which is not installed: "
            f"install Debian's package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})"
        ) from None


def _x(day: date) -> float:
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _draw(chart: Chart, size: tuple[int, int], dpi: int) -> tuple[Figure, Drawn]:
    font_file = cjk_font_file()
    width, height = size
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    unit = chart.unit
    low, high = axes.bounds(chart)
    divisor, axis_unit = axis_scale(max(abs(low), abs(high)), unit)

    def y(value: float) -> float:
        return value / divisor

    def num(dates: Sequence[date]) -> list[float]:
        return [_x(d) for d in dates]

    ax = fig.add_axes((0.105, 0.23, 0.835, 0.53))
    labels: list[str] = []
    legend: list[str] = []

    # The plan's path: dashed black, milestones as diamonds on it.
    if chart.path:
        days, values = zip(*chart.path, strict=True)
        ax.plot(num(days), [y(v) for v in values], color=BLACK, lw=1.2, ls=(0, (5, 3)),
                label=LEGEND_PATH, zorder=2)  # fmt: skip
        legend.append(LEGEND_PATH)
    if chart.milestones:
        days, values = zip(*chart.milestones, strict=True)
        ax.plot(num(days), [y(v) for v in values], ls="none", marker="D", ms=4.5, color=BLACK,
                mfc="white", mew=1.2, label=LEGEND_MILESTONES, zorder=3)  # fmt: skip
        legend.append(LEGEND_MILESTONES)

    # The forecast: from the latest value to the target date, its interval shaded.
    last = chart.actual[-1] if chart.actual else None
    if chart.forecast is not None:
        f = chart.forecast
        start_day, start_value = last if last is not None else (f.on, f.value)
        xs = num([start_day, f.on])
        ax.fill_between(xs, [y(start_value), y(f.low)], [y(start_value), y(f.high)],
                        color=ORANGE, alpha=0.25, lw=0, zorder=1)  # fmt: skip
        ax.plot(xs, [y(start_value), y(f.value)], color=ORANGE, lw=1.6, ls=(0, (2, 1.5)),
                zorder=3)  # fmt: skip
        ax.errorbar(xs[1:], [y(f.value)], yerr=[[y(f.value) - y(f.low)], [y(f.high) - y(f.value)]],
                    color=ORANGE, lw=1.4, capsize=4, marker="o", ms=4, zorder=4)  # fmt: skip
        ax.fill_between([], [], color=ORANGE, alpha=0.4, label=LEGEND_FORECAST)  # legend swatch
        legend.append(LEGEND_FORECAST)

    # The actual series: solid blue, the latest value labelled.
    if chart.actual:
        days, values = zip(*chart.actual, strict=True)
        ax.plot(num(days), [y(v) for v in values], color=BLUE, lw=2.2,
                marker="o" if len(days) <= 18 else None, ms=3.5, label=LEGEND_ACTUAL,
                zorder=5)  # fmt: skip
        legend.insert(0, LEGEND_ACTUAL)
        assert last is not None  # noqa: S101 - chart.actual is not empty
        text = f"{with_unit(last[1], unit)}({month_label(last[0])})"
        # Away from the line that leads to it: below-right when behind the path (whose label
        # is above), else above-left; toward the middle near the right edge.
        below = chart.required is not None and chart.required > last[1]
        first, final = axes.x_range(chart)
        right = (_x(last[0]) - _x(first)) < 0.7 * (_x(final) - _x(first)) if below else False
        ax.annotate(text, (num([last[0]])[0], y(last[1])),
                    xytext=(6 if right else -6, -8 if below else 8), textcoords="offset points",
                    ha="left" if right else "right", va="top" if below else "bottom",
                    fontsize=FS, color=BLUE, fontweight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})  # fmt: skip
        labels.append(text)

    # What the path requires on the day the progress is read for (of a year's value: that year's).
    required_on = chart.required_on or chart.as_of
    if chart.required is not None and required_on is not None:
        x = num([required_on])[0]
        ax.plot([x], [y(chart.required)], marker="o", ms=5, color=BLACK, mfc="white", mew=1.2,
                zorder=4)  # fmt: skip
        text = f"要求 {with_unit(chart.required, unit)}"
        above = last is None or chart.required > last[1]
        ax.annotate(text, (x, y(chart.required)), xytext=(-6, 6 if above else -6),
                    textcoords="offset points", ha="right", va="bottom" if above else "top",
                    fontsize=FS, color=BLACK, zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})  # fmt: skip
        labels.append(text)

    # The target: a vermillion star at the target date.
    if chart.target is not None and chart.target_date is not None:
        x = num([chart.target_date])[0]
        ax.plot([x], [y(chart.target)], ls="none", marker="*", ms=13, color=VERMILLION,
                mec="white", mew=0.6, label=LEGEND_TARGET, zorder=7)  # fmt: skip
        legend.insert(1 + (LEGEND_ACTUAL in legend) + (LEGEND_MILESTONES in legend),
                      LEGEND_TARGET)  # fmt: skip
        text = f"目标 {with_unit(chart.target, unit)}"
        # Where the forecast's interval (at the same date) is not: below the star when the
        # interval is above, above it when below, to its left when the interval spans it.
        band = chart.forecast
        side = "above" if band is None or band.high < chart.target else "left"
        side = "below" if band is not None and band.low > chart.target else side
        offset, va = {"above": ((8, 8), "bottom"), "below": ((8, -9), "top"),
                      "left": ((-9, 0), "center")}[side]  # fmt: skip
        ax.annotate(text, (x, y(chart.target)), xytext=offset,
                    textcoords="offset points", ha="right", va=va,
                    fontsize=FS, color=VERMILLION, fontweight="bold", zorder=7,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})  # fmt: skip
        labels.append(text)

    # Axes: dated x ticks, y in the officials' unit, a light grid.
    start, end = axes.x_range(chart)
    majors, tick_labels, minors = axes.ticks(start, end)
    span = _x(end) - _x(start)
    ax.set_xlim(_x(start) - span * 0.02, _x(end) + span * 0.02)
    ax.set_xticks(num(majors), tick_labels)
    ax.xaxis.set_minor_locator(FixedLocator(num(minors)))
    y_range = axes.y_range(y(low), y(high))
    ax.set_ylim(*y_range)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: plain(v)))
    if unit == "count" and divisor == 1:  # no half patents
        ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    quantity = QUANTITY_ZH.get(unit, "数值")
    if chart.change_since is not None:
        quantity = f"较{chart.change_since.year}年末增加"
        if chart.change_since != date(chart.change_since.year, 12, 31):
            quantity = f"较{day_label(chart.change_since)}增加"
    y_label = f"{quantity}({axis_unit})" if axis_unit else quantity
    x_label = "时间(年末)" if tick_labels and tick_labels[0].endswith("年末") else "时间(月末)"
    ax.set_ylabel(y_label, fontsize=FS)
    ax.set_xlabel(x_label, fontsize=FS, labelpad=3)
    ax.tick_params(axis="both", labelsize=FS, length=3)
    ax.tick_params(axis="x", which="minor", length=1.5)
    ax.grid(True, axis="y", color="#dddddd", lw=0.6)
    ax.grid(True, axis="x", which="major", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    # Title (division · indicator, the plan below it) and the key figures.
    head = f"{chart.division} · {chart.indicator}"
    fig.text(0.02, 0.96, head, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.885, chinese_quotes(chart.plan), fontsize=FS, color=GREY, va="top")
    figures = figures_line(chart)
    line = fig.text(0.02, 0.83, figures, fontsize=FS, va="top")
    _fit(fig, line, smallest=6.5)

    order = [LEGEND_ACTUAL, LEGEND_PATH, LEGEND_MILESTONES, LEGEND_TARGET, LEGEND_FORECAST]
    handles, names = ax.get_legend_handles_labels()
    found = dict(zip(names, handles, strict=True))
    shown = [n for n in order if n in found]
    fig.legend([found[n] for n in shown], shown, loc="lower center", ncol=len(shown),
               fontsize=FS, frameon=False, bbox_to_anchor=(0.5, 0.0), handlelength=2.2,
               columnspacing=1.4)  # fmt: skip

    drawn = Drawn(
        title=chart.title,
        figures=figures,
        x_label=x_label,
        y_label=y_label,
        x_ticks=tuple(tick_labels),
        legend=tuple(shown),
        labels=tuple(labels),
        size=(width, height),
        y_range=y_range,
        font_file=font_file,
    )
    return fig, drawn


def _fit(fig: Figure, text: Any, smallest: float) -> None:
    """Shrink `text` until it fits the figure's width (down to `smallest` points)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    while text.get_fontsize() > smallest:
        box = text.get_window_extent(renderer)
        if box.x1 <= fig.bbox.width * 0.985:
            return
        text.set_fontsize(text.get_fontsize() - 0.5)


_RC: dict[Any, Any] = {"font.family": [FONT_FAMILY, "DejaVu Sans"], "axes.unicode_minus": False}


def png(chart: Chart, size: tuple[int, int] = MAIL_SIZE, dpi: int = DPI) -> tuple[bytes, Drawn]:
    """The chart as a PNG of exactly `size` pixels (width, height)."""
    with matplotlib.rc_context(_RC):
        fig, drawn = _draw(chart, size, dpi)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue(), drawn


def svg(
    chart: Chart,
    size: tuple[int, int] = MAIL_SIZE,
    dpi: int = DPI,
    text: Literal["paths", "text"] = "paths",
) -> tuple[str, Drawn]:
    """The chart as SVG text; `text="paths"` embeds the glyphs (renders without the font),
    `"text"` keeps `<text>` elements (searchable, needs the font where shown)."""
    fonttype = "path" if text == "paths" else "none"
    with matplotlib.rc_context({**_RC, "svg.fonttype": fonttype, "svg.hashsalt": "iprwatch"}):
        fig, drawn = _draw(chart, size, dpi)
        out = io.StringIO()
        fig.savefig(out, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
    return out.getvalue(), drawn
