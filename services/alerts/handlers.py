"""Orchestration: fold indicator changes, evaluate alerts, queue notices, send them.

Evaluations are serialised by one lock (one alerts process owns the schema); every decision is
committed before anything leaves the process (see adapters/store.py and docs/alerts.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Protocol

from services.alerts.adapters.smtp import AmbiguousDelivery
from services.alerts.adapters.store import AlertStore
from services.alerts.domain.assessment import assess
from services.alerts.domain.lifecycle import repeat_due, step
from services.alerts.domain.mail import compose, subject_of
from services.alerts.domain.notices import Item, message_id
from services.alerts.domain.numbers import SHANGHAI
from services.alerts.domain.recipients import Recipients, Webhook
from services.alerts.domain.silences import silenced
from services.alerts.domain.snapshots import snapshot_of
from services.alerts.domain.webhooks import webhook_body
from services.alerts.metrics import AlertMetrics
from shared.indicator_events import IndicatorChanged
from shared.plan import Plan
from shared.trajectory import required_value

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...
    def today(self) -> date: ...


class Deliverer(Protocol):
    async def deliver(self, sender: str, recipient: str, payload: bytes, before: _Hook) -> None: ...


class _Hook(Protocol):
    async def __call__(self) -> None: ...


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
        mailer: Deliverer,
        poster: Deliverer,
        sender: str,
    ) -> None:
        self.store, self.plan, self.recipients = store, plan, recipients
        self.policy, self.clock, self.metrics = policy, clock, metrics
        self.mailer, self.poster, self.sender = mailer, poster, sender
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
            for district, indicator, _, points in rows:
                if (district, indicator) in stored and self._has_target(district, indicator):
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
        now, p = self.clock.now(), self.policy
        a = assess(self.plan, district, indicator, points, self.clock.today(), p.window)
        key = (district, indicator)
        if a.status == "no_target":
            return
        if a.required is not None:
            self.metrics.snapshot.required[key] = a.required
        if a.forecast is not None:
            self.metrics.snapshot.forecast[key] = a.forecast.value
        prev, repeats = await self.store.alert(district, indicator)
        alert, transition = step(prev, a.alerting, a.severity, now, p.for_span, p.hold_down)
        snapshot = snapshot_of(a, self.plan, points, now)
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

    def _webhook(self, name: str) -> Webhook | None:
        return next((w for w in self.recipients.webhooks if w.name == name), None)

    # --- notices -------------------------------------------------------------------------

    async def compose_due(self) -> int:
        """Group queued notices per recipient (after `group_wait`) into logged messages."""
        now = self.clock.now()
        groups: dict[tuple[str, str], list[tuple[Item, datetime]]] = defaultdict(list)
        for channel, recipient, item, created in await self.store.queued():
            groups[(channel, recipient)].append((item, created))
        if not groups:
            return 0
        silences = await self.store.silences()
        made = 0
        for (channel, recipient), entries in groups.items():
            if min(created for _, created in entries) > now - self.policy.group_wait:
                continue
            items = [i for i, _ in entries if not silenced(silences, i.labels, now)]
            muted = [i for i, _ in entries if silenced(silences, i.labels, now)]
            hook = self._webhook(recipient) if channel == "webhook" else None
            if channel == "webhook" and hook is None:
                log.warning("webhook no longer configured: its notices are dropped",
                            extra={"webhook": recipient, "notices": len(items)})  # fmt: skip
                items, muted = [], muted + items
            if channel == "email":
                mid = message_id(recipient, items) if items else ""
                payload = compose(recipient, items, self.sender, now).as_bytes() if items else b""
            else:
                mid = message_id(f"webhook:{recipient}", items) if items else ""
                body = webhook_body(hook.kind, recipient, items) if hook and items else {}
                payload = json.dumps(body, ensure_ascii=False).encode()
            subject = subject_of(items) if items else ""
            await self.store.log_message(
                mid, channel, recipient, subject, payload, items, muted, now
            )
            made += 1 if items else 0
        return made

    async def send_due(self) -> int:
        sent = 0
        for row in await self.store.due_messages(self.clock.now()):
            mid, channel = row["message_id"], row["channel"]

            async def transmitting(mid: str = mid) -> None:
                await self.store.set_status(mid, "transmitting", self.clock.now())

            try:
                if channel == "email":
                    envelope_from = parseaddr(self.sender)[1]
                    await self.mailer.deliver(
                        envelope_from, row["recipient"], bytes(row["payload"]), transmitting
                    )
                else:
                    hook = self._webhook(row["recipient"])
                    if hook is None:
                        raise LookupError(f"webhook {row['recipient']!r} is not configured")
                    await self.poster.deliver("", hook.url, bytes(row["payload"]), transmitting)
            except AmbiguousDelivery as exc:
                log.warning(
                    "delivery unconfirmed: not resent", extra={"message_id": mid, "error": str(exc)}
                )
                await self.store.set_status(mid, "unconfirmed", self.clock.now(), str(exc))
                self.metrics.failed.labels(channel).inc()
            except Exception as exc:  # noqa: BLE001 - any other failure: the server has nothing
                wait = min(
                    self.policy.retry_max, self.policy.retry_base * 2 ** int(row["attempts"])
                )
                retry_at = self.clock.now() + timedelta(seconds=wait)
                log.warning(
                    "delivery failed, retrying",
                    extra={"message_id": mid, "error": repr(exc), "retry_in_seconds": wait},
                )
                await self.store.set_status(mid, "sending", self.clock.now(), repr(exc), retry_at)
                self.metrics.failed.labels(channel).inc()
            else:
                await self.store.set_status(mid, "sent", self.clock.now())
                self.metrics.sent.labels(channel).inc()
                sent += 1
        return sent


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
