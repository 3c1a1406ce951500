"""A small PNG chart: the series (blue) against the required path (grey) and the forecast
(orange, with its interval shaded), drawn and encoded in pure Python (zlib for deflate).

No text is drawn (the mail's HTML carries the legend and the numbers): the picture only shows
the shape, which is what a reader takes from a chart at a glance.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

Colour = tuple[int, int, int]
SERIES: Colour = (31, 119, 180)
PATH: Colour = (120, 120, 120)
FORECAST: Colour = (255, 127, 14)
BAND: Colour = (255, 224, 196)
AXIS: Colour = (60, 60, 60)
GRID: Colour = (232, 232, 232)


@dataclass(frozen=True)
class ChartData:
    """x in months since the baseline; the path as (x, y) points, the series likewise."""

    series: Sequence[tuple[float, float]]
    path: Sequence[tuple[float, float]]
    forecast_from: tuple[float, float] | None = None
    forecast_to: tuple[float, float, float, float] | None = None  # x, value, low, high
    x_max: float = 60.0


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, colour: Colour, size: int = 1) -> None:
        for dx in range(size):
            for dy in range(size):
                px, py = x + dx, y + dy
                if 0 <= px < self.width and 0 <= py < self.height:
                    at = (py * self.width + px) * 3
                    self.pixels[at : at + 3] = bytes(colour)

    def line(
        self, a: tuple[int, int], b: tuple[int, int], colour: Colour, size: int = 2, dash: int = 0
    ) -> None:
        (x0, y0), (x1, y1) = a, b
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            if dash and (i // dash) % 2:
                continue
            self.dot(
                round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps), colour, size
            )

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def render_png(data: ChartData, width: int = 480, height: int = 240) -> bytes:
    margin = 12
    ys = [y for _, y in data.series] + [y for _, y in data.path]
    if data.forecast_to is not None:
        ys += [data.forecast_to[2], data.forecast_to[3]]
    y_min, y_max = min([0.0, *ys]), max([1.0, *ys])
    span = (y_max - y_min) or 1.0
    canvas = Canvas(width, height)

    def at(x: float, y: float) -> tuple[int, int]:
        px = margin + (width - 2 * margin) * x / (data.x_max or 1.0)
        py = height - margin - (height - 2 * margin) * (y - y_min) / span
        return round(px), round(py)

    for year in range(0, int(data.x_max) + 1, 12):
        canvas.line(at(year, y_min), at(year, y_max), GRID, size=1)
    if data.forecast_from is not None and data.forecast_to is not None:
        x0, y0 = data.forecast_from
        x1, _, low, high = data.forecast_to
        for px in range(at(x0, 0)[0], at(x1, 0)[0] + 1):
            share = (px - at(x0, 0)[0]) / max(1, at(x1, 0)[0] - at(x0, 0)[0])
            top = at(0, y0 + (high - y0) * share)[1]
            bottom = at(0, y0 + (low - y0) * share)[1]
            canvas.line((px, top), (px, bottom), BAND, size=1)
    canvas.line(at(0, y_min), at(data.x_max, y_min), AXIS, size=1)
    canvas.line(at(0, y_min), at(0, y_max), AXIS, size=1)
    for a, b in zip(data.path, data.path[1:], strict=False):
        canvas.line(at(*a), at(*b), PATH, dash=6)
    if data.forecast_from is not None and data.forecast_to is not None:
        canvas.line(at(*data.forecast_from), at(*data.forecast_to[:2]), FORECAST, dash=4)
    for a, b in zip(data.series, data.series[1:], strict=False):
        canvas.line(at(*a), at(*b), SERIES, size=3)
    for point in data.series:
        x, y = at(*point)
        canvas.dot(x - 2, y - 2, SERIES, size=5)
    return canvas.png()
