"""Orchestration: fold indicator changes, evaluate alerts per plan, conclude ended plans.

Evaluations are serialised by one lock (one alerts process owns the schema); every decision is
committed before anything leaves the process; `dispatch.py` sends what is queued.

Every key is (plan, district, indicator): one event history feeds every plan, each plan has its
own series and alerts. By the date in its time zone a plan is `upcoming` (nothing is
evaluated), `in_progress` (alerts run their life cycle) or `ended`: its open alerts are closed
into one final evaluation (终期评估) per recipient, once, and a later change of an outcome is
told once (`conclusion.py`). The end of a plan is decided only after the consumer has once
read to the end of the topic (`caught_up`), so a fresh start does not conclude on an empty
store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.alerts.domain.assessment import assess
from services.alerts.domain.lifecycle import repeat_due, step
from services.alerts.domain.notices import Item
from services.alerts.domain.recipients import Recipients
from services.alerts.domain.snapshots import snapshot_of
from services.alerts.metrics import AlertMetrics
from services.alerts.service.conclusion import Conclusion
from services.alerts.service.policy import Policy
from services.alerts.service.ports import Clock, Key, Notice, Points, Repositories
from shared.indicator_events import IndicatorChanged
from shared.outcomes import targeted_keys
from shared.plan import Plan
from shared.plans import PlanSet
from shared.trajectory import required_value

log = logging.getLogger(__name__)


class Alerting:
    def __init__(
        self,
        repositories: Repositories,
        plans: PlanSet,
        recipients: Recipients,
        policy: Policy,
        clock: Clock,
        metrics: AlertMetrics,
    ) -> None:
        self.repositories, self.plans, self.recipients = repositories, plans, recipients
        self.policy, self.clock, self.metrics = policy, clock, metrics
        self.lock = asyncio.Lock()
        self.caught_up = asyncio.Event()  # set by the consumer once it read to the end
        self.conclusion = Conclusion(repositories, recipients, clock, metrics)
        # when a plan's values last changed here (from the start: a catch-up may be running)
        self.started_at = clock.now()
        self.changed_at: dict[str, datetime] = {}

    def _plan(self, plan_id: str) -> Plan | None:
        try:
            return self.plans.get(plan_id)
        except KeyError:
            return None

    # --- state ---------------------------------------------------------------------------

    async def on_change(self, change: IndicatorChanged) -> bool:
        """Store the series if it is newer than what we hold, then evaluate; False if stale."""
        points = [(p.month, p.value) for p in change.series]
        if not points and change.value is not None:
            held = dict(
                await self.repositories.series.points(
                    change.plan, change.district, change.indicator
                )
            )
            held[change.month] = change.value
            points = sorted(held.items())
        async with self.lock:
            fresh = await self.repositories.series.save_series(
                change.plan, change.district, change.indicator, change.seq, points
            )
            self.metrics.changes.labels("applied" if fresh else "stale").inc()
            if fresh:
                self.changed_at[change.plan] = self.clock.now()
                await self._evaluate(change.plan, change.district, change.indicator, points)
                await self._conclude_ended({change.plan})
        return fresh

    async def on_changes(self, changes: Sequence[IndicatorChanged]) -> None:
        """A batch: per key only the highest `seq` matters (each message carries the whole
        series), stored in one statement; then the stored keys with a target are evaluated."""
        latest: dict[Key, IndicatorChanged] = {}
        partial: list[IndicatorChanged] = []
        for change in changes:
            if not change.series:
                partial.append(change)
                continue
            key = (change.plan, change.district, change.indicator)
            if key not in latest or change.seq > latest[key].seq:
                latest[key] = change
        superseded = len(changes) - len(partial) - len(latest)
        rows = [(c.plan, c.district, c.indicator, c.seq, [(p.month, p.value) for p in c.series])
                for c in latest.values()]  # fmt: skip
        async with self.lock:
            stored = await self.repositories.series.save_many(rows)
            self.metrics.changes.labels("applied").inc(len(stored))
            self.metrics.changes.labels("stale").inc(superseded + len(latest) - len(stored))
            for plan_id in {key[0] for key in stored}:
                self.changed_at[plan_id] = self.clock.now()
            for plan, district, indicator, seq, points in rows:
                if (plan, district, indicator) not in stored:
                    continue
                log.info("indicator changed", extra={"plan": plan, "district": district,
                         "indicator": indicator, "seq": seq, "points": len(points)})  # fmt: skip
                if self._has_target(plan, district, indicator):
                    await self._evaluate(plan, district, indicator, list(points))
            await self._conclude_ended({key[0] for key in stored})
        for change in partial:
            await self.on_change(change)

    def _has_target(self, plan_id: str, district: str, indicator: str) -> bool:
        plan = self._plan(plan_id)
        try:
            return plan is not None and plan.target_for(district, indicator) is not None
        except KeyError:
            return False

    async def evaluate_all(self) -> None:
        """The schedule's evaluation: the path moves with time even when no data comes."""
        async with self.lock:
            for plan in self.plans:
                today = self.clock.plan_today(plan)
                if plan.state(today) != "in_progress":
                    self._forget_metrics(plan.id)
                    continue
                for district, indicator in targeted_keys(plan):  # the path, even before data
                    required = required_value(plan, district, indicator, today)
                    if required is not None:
                        self.metrics.snapshot.required[(plan.id, district, indicator)] = required
            for (plan_id, district, indicator), points in sorted(
                (await self.repositories.series.all_series()).items()
            ):
                if self._has_target(plan_id, district, indicator):
                    await self._evaluate(plan_id, district, indicator, points)
            await self._conclude_ended(set(self.plans.ids))

    def _forget_metrics(self, plan_id: str) -> None:
        for table in (self.metrics.snapshot.required, self.metrics.snapshot.forecast):
            for key in [k for k in table if k[0] == plan_id]:
                table.pop(key)

    async def _evaluate(self, plan_id: str, district: str, indicator: str, points: Points) -> None:
        plan = self._plan(plan_id)
        try:
            if plan is None:
                raise KeyError(plan_id)
            plan.indicator(indicator)
            if district != plan.city.code:
                plan.district(district)
        except KeyError:
            log.warning(
                "change for a key no loaded plan knows",
                extra={"plan": plan_id, "district": district, "indicator": indicator},
            )
            return
        now, today, p = self.clock.now(), self.clock.plan_today(plan), self.policy
        if plan.state(today) != "in_progress":
            return  # upcoming: nothing yet; ended: see conclusion.py
        a = assess(plan, district, indicator, points, today, p.window)
        key = (plan.id, district, indicator)
        if a.status == "no_target":
            return
        if a.required is not None:
            self.metrics.snapshot.required[key] = a.required
        if a.forecast is not None:
            self.metrics.snapshot.forecast[key] = a.forecast.value
        prev, repeats = await self.repositories.alerts.alert(plan.id, district, indicator)
        alert, transition = step(prev, a.alerting, a.severity, now, p.for_span, p.hold_down)
        snapshot = snapshot_of(a, plan, points, now, today)
        snapshot["firing_since"] = alert.firing_since.isoformat() if alert.firing_since else None

        def items(kind: Any, targets: list[tuple[str, str]], repeat: int = 0) -> list[Any]:
            return [(c, r, Item(district, indicator, alert.epoch, kind, repeat, snapshot, plan.id))
                    for c, r in targets]  # fmt: skip

        notices: list[Notice] = []
        if transition == "firing":
            repeats = 0
            notices = items("firing", self._targets(plan, district))
        elif transition == "resolved":
            told = await self.repositories.send_log.notified_recipients(
                plan.id, district, indicator, alert.epoch
            )
            notices = items("resolved", told)
        elif repeat_due(alert, now, p.repeat_interval):
            repeats += 1
            alert = replace(alert, last_notified_at=now)
            notices = items("repeat", self._targets(plan, district), repeats)
        await self.repositories.alerts.save_alert(
            plan.id, district, indicator, alert, repeats, a.status, snapshot, notices, now
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
                    "plan": plan.id,
                    "district": district,
                    "indicator": indicator,
                    "status": a.status,
                    "epoch": alert.epoch,
                    "notices": len(notices),
                },
            )

    def _targets(self, plan: Plan, district: str) -> list[tuple[str, str]]:
        mails = [("email", r) for r in self.recipients.for_alert(district, plan.city.code)]
        hooks = [("webhook", w.name) for w in self.recipients.webhooks_for(district)]
        return mails + hooks

    # --- the end of a plan ------------------------------------------------------------------

    async def _conclude_ended(self, plan_ids: set[str]) -> None:
        """Judge the ended plans among `plan_ids` whose values have settled: the consumer read
        to the end of the topic once, and none of the plan's values changed for
        `policy.settle` (a fold catching up sends changes without pause; the scheduled
        evaluation concludes once they stop)."""
        if not self.caught_up.is_set():
            return
        now = self.clock.now()
        for plan in self.plans:
            if plan.id not in plan_ids or plan.state(self.clock.plan_today(plan)) != "ended":
                continue
            if now - self.changed_at.get(plan.id, self.started_at) < self.policy.settle:
                continue
            await self.conclusion.conclude(plan)
