"""What a division's page reads besides the snapshot, per request: its latest acts (from the
indicators' own `acts`, for an area those of every division within it) and its current alerts
(from the alerts service, which may be unset or away: the page says so and renders anyway).
Both are asked at once, so the page waits for the slower of the two, not their sum."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.indicators.service.ports import AlertsAnswer, CurrentAlerts, RecentAct, RecentActs


@dataclass(frozen=True)
class DivisionFeed:
    acts: list[RecentAct]
    alerts: AlertsAnswer


async def division_feed(
    acts: RecentActs, alerts: CurrentAlerts, plan: str, code: str, limit: int
) -> DivisionFeed:
    latest, answer = await asyncio.gather(acts.latest_acts(code, limit), alerts.current(plan, code))
    return DivisionFeed(latest, answer)
