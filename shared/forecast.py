"""Where an indicator is heading: its recent pace carried forward, with a 90 % interval.

The forecast (`forecast`): the UN ESCAP "anticipated progress" idea, the recent pace carried
forward from where the indicator stands. The pace is the slope b of a weighted least-squares
line through the last `window` points, newer ones weighing more (weight (i + 1) / n for the
i-th of n points, oldest first); the forecast is y_last + b·(at − x_last), with the 90 %
prediction interval ± t·s·sqrt(1 + 1/Σw + (at − x̄)²/Sxx), s² = Σw·r²/(n − 2), Student's t at
n − 2 degrees of freedom. Fewer than 3 points give no forecast.

Pure maths: `shared.status` uses it for `at_risk`, the charts show it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Forecast", "forecast", "t95"]

# Student's t, 0.95 quantile (two-sided 90 %), for 1..30 degrees of freedom; beyond: 1.645.
_T95 = (
    6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
    1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
    1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697,
)  # fmt: skip


def t95(dof: int) -> float:
    return _T95[dof - 1] if dof <= len(_T95) else 1.645


@dataclass(frozen=True)
class Forecast:
    value: float
    low: float
    high: float
    slope: float  # per unit of x (a month, or a year for yearly indicators)
    points: int


def forecast(
    points: Sequence[tuple[float, float]], at: float, window: int = 24, min_points: int = 3
) -> Forecast | None:
    """Fit (x, y) points (x ascending) and read the pace at x = `at`; None with too few.

    Points after `at` are left out: once the target date has passed, the forecast is what the
    series showed by then (never a line drawn backwards from later values).
    """
    recent = [point for point in points if point[0] <= at][-window:]
    n = len(recent)
    if n < max(min_points, 3):
        return None
    weights = [(i + 1) / n for i in range(n)]
    total = sum(weights)
    x_mean = sum(w * x for w, (x, _) in zip(weights, recent, strict=True)) / total
    y_mean = sum(w * y for w, (_, y) in zip(weights, recent, strict=True)) / total
    sxx = sum(w * (x - x_mean) ** 2 for w, (x, _) in zip(weights, recent, strict=True))
    if sxx == 0:
        return None
    sxy = sum(w * (x - x_mean) * (y - y_mean) for w, (x, y) in zip(weights, recent, strict=True))
    slope = sxy / sxx
    intercept = y_mean - slope * x_mean
    last_x, last_y = recent[-1]
    value = last_y + slope * (at - last_x)
    residual = sum(
        w * (y - intercept - slope * x) ** 2 for w, (x, y) in zip(weights, recent, strict=True)
    )
    s2 = residual / (n - 2)
    spread = t95(n - 2) * math.sqrt(s2 * (1 + 1 / total + (at - x_mean) ** 2 / sxx))
    return Forecast(value, value - spread, value + spread, slope, n)
