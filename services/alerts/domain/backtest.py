"""Backtest: replay a history month by month and list when each alert would fire and resolve.

The same status definition as the service (`shared.status`: the evidence rule for counts,
grace months, provisional years). Each month end from `start` to `end` within the plan period
is one evaluation ("today" = that day, the series cut at
that month), run through the same assessment and life cycle as the service; `for_months` and
`hold_months` count evaluations (a month is taken as 28 days, so k month ends are k steps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from services.alerts.domain.assessment import Assessment, Point, assess
from services.alerts.domain.lifecycle import AlertState, step
from services.alerts.domain.snapshots import snapshot_of
from shared.months import month_end, month_texts
from shared.plan import Plan


@dataclass
class Episode:
    district: str
    indicator: str
    fired: str  # YYYY-MM
    status: str
    value: float | None
    required: float | None
    forecast: float | None
    resolved: str | None = None


@dataclass
class Replay:
    episodes: list[Episode] = field(default_factory=list)
    last: dict[tuple[str, str], Assessment] = field(default_factory=dict)
    snapshots: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def replay(
    plan: Plan,
    history: Mapping[tuple[str, str], Sequence[Point]],
    start: str,
    end: str,
    for_months: int = 1,
    hold_months: int = 1,
    window: int = 24,
) -> Replay:
    result = Replay()
    states: dict[tuple[str, str], AlertState] = {}
    open_episode: dict[tuple[str, str], Episode] = {}
    for_span, hold = timedelta(days=28 * for_months), timedelta(days=28 * hold_months)
    keys = sorted(k for k in history if plan.target_for(*k) is not None)
    for month in month_texts(start, end):
        today = month_end(month)
        now = datetime.combine(today, time(23, 59), UTC)
        if plan.state(today) != "in_progress":
            continue  # no path before the plan starts, no "required now" after it ended
        for key in keys:
            points = [(m, v) for m, v in sorted(history[key]) if m <= month]
            a = assess(plan, key[0], key[1], points, today, window)
            state, transition = step(states.get(key, AlertState()), a.alerting, a.severity, now,
                                     for_span, hold)  # fmt: skip
            states[key] = state
            result.last[key] = a
            result.snapshots[key] = snapshot_of(a, plan, points, now, today)
            if transition == "firing":
                episode = Episode(key[0], key[1], month, a.status, a.value, a.required,
                                  a.forecast.value if a.forecast else None)  # fmt: skip
                open_episode[key] = episode
                result.episodes.append(episode)
            elif transition == "resolved":
                open_episode.pop(key).resolved = month
    return result
