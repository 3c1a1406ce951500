"""Orchestration: fold indicator changes, evaluate alerts, queue their notices.

Evaluations are serialised by one lock (one alerts process owns the schema); every decision is
committed before anything leaves the process; `dispatch.py` sends what is queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from services.alerts.adapters.store import AlertStore
from services.alerts.domain.assessment import assess
from services.alerts.domain.lifecycle import repeat_due, step
from services.alerts.domain.notices import Item
from services.alerts.domain.numbers import SHANGHAI
from services.alerts.domain.recipients import Recipients
from services.alerts.domain.snapshots import snapshot_of
from services.alerts.metrics import AlertMetrics
from shared.indicator_events import IndicatorChanged
from shared.plan import Plan
from shared.trajectory import required_value

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...
    def today(self) -> date: ...


@dataclass(frozen=True)
class Policy:
    for_span: timedelta
    hold_down: timedelta
    repeat_interval: timedelta
    group_wait: timedelta
    retry_base: float
    retry_max: float
    window: int = 24


class Alerting:
    def __init__(
        self,
        store: AlertStore,
        plan: Plan,
        recipients: Recipients,
        policy: Policy,
        clock: Clock,
        metrics: AlertMetrics,
    ) -> None:
        self.store, self.plan, self.recipients = store, plan, recipients
        self.policy, self.clock, self.metrics = policy, clock, metrics
        self.lock = asyncio.Lock()

    # --- state ---------------------------------------------------------------------------

    async def on_change(self, change: IndicatorChanged) -> bool:
        """Store the series if it is newer than what we hold, then evaluate; False if stale."""
        points = [(p.month, p.value) for p in change.series]
        if not points and change.value is not None:
            held = dict(await self.store.points(change.district, change.indicator))
            held[change.month] = change.value
            points = sorted(held.items())
        async with self.lock:
            fresh = await self.store.save_series(
                change.district, change.indicator, change.seq, points
            )
            self.metrics.changes.labels("applied" if fresh else "stale").inc()
            if fresh:
                await self._evaluate(change.district, change.indicator, points)
        return fresh

    async def on_changes(self, changes: Sequence[IndicatorChanged]) -> None:
        """A batch: per key only the highest `seq` matters (each message carries the whole
        series), stored in one statement; then the stored keys with a target are evaluated."""
        latest: dict[tuple[str, str], IndicatorChanged] = {}
        partial: list[IndicatorChanged] = []
        for change in changes:
            if not change.series:
                partial.append(change)
                continue
            key = (change.district, change.indicator)
            if key not in latest or change.seq > latest[key].seq:
                latest[key] = change
        superseded = len(changes) - len(partial) - len(latest)
        rows = [(c.district, c.indicator, c.seq, [(p.month, p.value) for p in c.series])
                for c in latest.values()]  # fmt: skip
        async with self.lock:
            stored = await self.store.save_many(rows)
            self.metrics.changes.labels("applied").inc(len(stored))
            self.metrics.changes.labels("stale").inc(superseded + len(latest) - len(stored))
            for district, indicator, seq, points in rows:
                if (district, indicator) not in stored:
                    continue
                log.info("indicator changed", extra={"district": district,
                         "indicator": indicator, "seq": seq, "points": len(points)})  # fmt: skip
                if self._has_target(district, indicator):
                    await self._evaluate(district, indicator, list(points))
        for change in partial:
            await self.on_change(change)

    def _has_target(self, district: str, indicator: str) -> bool:
        try:
            return self.plan.target_for(district, indicator) is not None
        except KeyError:
            return False

    async def evaluate_all(self) -> None:
        """The schedule's evaluation: the path moves with time even when no data comes."""
        async with self.lock:
            today = self.clock.today()
            for district, indicator in targeted_keys(self.plan):  # the path, even before data
                required = required_value(self.plan, district, indicator, today)
                if required is not None:
                    self.metrics.snapshot.required[(district, indicator)] = required
            for (district, indicator), points in sorted((await self.store.all_series()).items()):
                await self._evaluate(district, indicator, points)

    async def _evaluate(
        self, district: str, indicator: str, points: list[tuple[str, float]]
    ) -> None:
        try:
            self.plan.indicator(indicator)
            if district != self.plan.city.code:
                self.plan.district(district)
        except KeyError:
            log.warning(
                "change for a key the plan does not know",
                extra={"district": district, "indicator": indicator},
            )
            return
        now, today, p = self.clock.now(), self.clock.today(), self.policy
        a = assess(self.plan, district, indicator, points, today, p.window)
        key = (district, indicator)
        if a.status == "no_target":
            return
        if a.required is not None:
            self.metrics.snapshot.required[key] = a.required
        if a.forecast is not None:
            self.metrics.snapshot.forecast[key] = a.forecast.value
        prev, repeats = await self.store.alert(district, indicator)
        alert, transition = step(prev, a.alerting, a.severity, now, p.for_span, p.hold_down)
        snapshot = snapshot_of(a, self.plan, points, now, today)
        snapshot["firing_since"] = alert.firing_since.isoformat() if alert.firing_since else None
        notices: list[tuple[str, str, Item]] = []
        if transition == "firing":
            repeats = 0
            notices = [
                (c, r, Item(district, indicator, alert.epoch, "firing", 0, snapshot))
                for c, r in self._targets(district)
            ]
        elif transition == "resolved":
            told = await self.store.notified_recipients(district, indicator, alert.epoch)
            notices = [
                (c, r, Item(district, indicator, alert.epoch, "resolved", 0, snapshot))
                for c, r in told
            ]
        elif repeat_due(alert, now, p.repeat_interval):
            repeats += 1
            alert = replace(alert, last_notified_at=now)
            notices = [
                (c, r, Item(district, indicator, alert.epoch, "repeat", repeats, snapshot))
                for c, r in self._targets(district)
            ]
        await self.store.save_alert(
            district, indicator, alert, repeats, a.status, snapshot, notices, now
        )
        if alert.state == "firing":
            self.metrics.snapshot.firing[key] = alert.severity
        else:
            self.metrics.snapshot.firing.pop(key, None)
        if transition:
            log.info(
                "alert %s",
                transition,
                extra={
                    "district": district,
                    "indicator": indicator,
                    "status": a.status,
                    "epoch": alert.epoch,
                    "notices": len(notices),
                },
            )

    def _targets(self, district: str) -> list[tuple[str, str]]:
        mails = [("email", r) for r in self.recipients.for_alert(district, self.plan.city.code)]
        hooks = [("webhook", w.name) for w in self.recipients.webhooks_for(district)]
        return mails + hooks


def targeted_keys(plan: Plan) -> list[tuple[str, str]]:
    """Every (district, indicator) with a published target: the city's, then districts'."""
    keys = [(plan.city.code, i.key) for i in plan.indicators if i.target is not None]
    return keys + [(d.code, key) for d in plan.districts for key in d.targets]


class SystemClock:
    """Real time; with `fixed_today`, the plan's "today" stays on that day (tests, demos)."""

    def __init__(self, fixed_today: date | None = None) -> None:
        self.fixed_today = fixed_today

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        if self.fixed_today is not None:
            return self.fixed_today
        return datetime.now(SHANGHAI).date()
