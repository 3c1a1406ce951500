"""The timings of the alert life cycle and of delivery (from the settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    for_span: timedelta
    hold_down: timedelta
    repeat_interval: timedelta
    group_wait: timedelta
    retry_base: float
    retry_max: float
    window: int = 24
    # an ended plan is judged once its series have been quiet this long (no catch-up running)
    settle: timedelta = timedelta(0)
