"""In-memory stand-ins for the alerts service layer's ports: repositories sharing one
`Memory` (a decision's writes land together, as one transaction would), a recording mail
sender and webhook poster, a fixed clock. The contract tests (`contracts.py`) hold them to
the PostgreSQL repositories' behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import Item
from services.alerts.domain.silences import Silence
from services.alerts.service.ports import (
    AmbiguousDelivery,
    Closed,
    DueMessage,
    HeldOutcome,
    Hook,
    Key,
    LoggedMessage,
    Notice,
    Points,
    Queued,
    Repositories,
    SeriesUpdate,
    StoredAlert,
)
from shared.outcomes import Outcome
from shared.plan import Plan

NoticeKey = tuple[str, str, str, str, str, int, str, int]


@dataclass
class QueuedItem:
    channel: str
    recipient: str
    item: Item
    created_at: datetime
    status: str = "queued"
    message_id: str | None = None


@dataclass
class LogRow:
    message: LoggedMessage
    payload: bytes
    next_attempt_at: datetime


@dataclass
class Memory:
    series: dict[Key, tuple[int, Points]] = field(default_factory=dict)
    alerts: dict[Key, StoredAlert] = field(default_factory=dict)
    items: dict[NoticeKey, QueuedItem] = field(default_factory=dict)
    log: dict[str, LogRow] = field(default_factory=dict)
    silences: list[tuple[Silence, datetime | None]] = field(default_factory=list)
    concluded: set[str] = field(default_factory=set)
    outcomes: dict[tuple[str, str, str], HeldOutcome] = field(default_factory=dict)

    def queue(self, notices: Sequence[Notice], now: datetime) -> None:
        for channel, recipient, i in notices:
            key = (channel, recipient, i.plan, i.district, i.indicator, i.epoch, i.kind, i.repeat)
            self.items.setdefault(key, QueuedItem(channel, recipient, i, now))

    def put_alert(
        self, plan: str, district: str, indicator: str, alert: AlertState, repeats: int,
        status: str, snapshot: dict[str, Any], now: datetime,
    ) -> None:  # fmt: skip
        stored = StoredAlert(plan, district, indicator, alert, status, repeats, dict(snapshot), now)
        self.alerts[(plan, district, indicator)] = stored


class MemorySeries:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def save_series(
        self, plan: str, district: str, indicator: str, seq: int,
        points: Sequence[tuple[str, float]],
    ) -> bool:  # fmt: skip
        return bool(await self.save_many([(plan, district, indicator, seq, points)]))

    async def save_many(self, rows: Sequence[SeriesUpdate]) -> set[Key]:
        stored: set[Key] = set()
        for plan, district, indicator, seq, points in rows:
            key = (plan, district, indicator)
            held = self.memory.series.get(key)
            if held is None or held[0] < seq:
                self.memory.series[key] = (seq, [(m, float(v)) for m, v in points])
                stored.add(key)
        return stored

    async def points(self, plan: str, district: str, indicator: str) -> Points:
        held = self.memory.series.get((plan, district, indicator))
        return list(held[1]) if held else []

    async def all_series(self, plan: str | None = None) -> dict[Key, Points]:
        return {k: list(v[1]) for k, v in self.memory.series.items() if plan in (None, k[0])}


class MemoryAlerts:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def alert(self, plan: str, district: str, indicator: str) -> tuple[AlertState, int]:
        stored = self.memory.alerts.get((plan, district, indicator))
        return (stored.alert, stored.repeats) if stored else (AlertState(), 0)

    async def save_alert(
        self, plan: str, district: str, indicator: str, alert: AlertState, repeats: int,
        status: str, snapshot: dict[str, Any], notices: Sequence[Notice], now: datetime,
    ) -> None:  # fmt: skip
        self.memory.put_alert(plan, district, indicator, alert, repeats, status, snapshot, now)
        self.memory.queue(notices, now)

    async def alerts(
        self,
        state: str | None,
        district: str | None,
        indicator: str | None,
        limit: int | None = None,
        offset: int = 0,
        plan: str | None = None,
    ) -> list[StoredAlert]:
        def wanted(a: StoredAlert) -> bool:
            if state == "resolved":
                if a.alert.state != "inactive" or a.alert.resolved_at is None:
                    return False
            elif state and a.alert.state != state:
                return False
            return all(
                not value or actual == value
                for value, actual in ((plan, a.plan), (district, a.district),
                                      (indicator, a.indicator))
            )  # fmt: skip

        found = [a for _, a in sorted(self.memory.alerts.items()) if wanted(a)]
        return found[offset : None if limit is None else offset + limit]


class MemoryConclusions:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def concluded(self, plan: str) -> bool:
        return plan in self.memory.concluded

    async def outcomes(self, plan: str) -> dict[tuple[str, str], HeldOutcome]:
        return {(k[1], k[2]): o for k, o in self.memory.outcomes.items() if k[0] == plan}

    async def conclude(
        self, plan: str, outcomes: Sequence[Outcome], revisions: dict[tuple[str, str], int],
        closed: Sequence[Closed], notices: Sequence[Notice], now: datetime, first: bool,
    ) -> bool:  # fmt: skip
        if first:
            if plan in self.memory.concluded:
                return False
            self.memory.concluded.add(plan)
        for o in outcomes:
            self.memory.outcomes[(plan, o.division, o.indicator)] = HeldOutcome(
                o.division, o.indicator, o.outcome, o.value, o.target, o.shortfall, o.period,
                revisions[o.key],
            )  # fmt: skip
        for district, indicator, alert, status, snapshot in closed:
            self.memory.put_alert(plan, district, indicator, alert, 0, status, snapshot, now)
        self.memory.queue(notices, now)
        return True


class MemorySendLog:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def queued(self) -> list[Queued]:
        waiting = [q for q in self.memory.items.values() if q.status == "queued"]
        waiting.sort(key=lambda q: (q.created_at, q.item.plan, q.item.district, q.item.indicator))
        return [(q.channel, q.recipient, q.item, q.created_at) for q in waiting]

    async def notified_recipients(
        self, plan: str, district: str, indicator: str, epoch: int
    ) -> list[tuple[str, str]]:
        return sorted({
            (q.channel, q.recipient) for q in self.memory.items.values()
            if (q.item.plan, q.item.district, q.item.indicator, q.item.epoch)
            == (plan, district, indicator, epoch)
            and q.item.kind in ("firing", "repeat") and q.status != "silenced"
        })  # fmt: skip

    async def log_message(
        self, message_id: str, channel: str, recipient: str, subject: str, payload: bytes,
        items: Sequence[Item], silenced: Sequence[Item], now: datetime,
    ) -> None:  # fmt: skip
        if items and message_id not in self.memory.log:
            keys = [i.key for i in items]
            message = LoggedMessage(
                message_id, channel, recipient, subject, keys, "sending", 0, None, now, None
            )
            self.memory.log[message_id] = LogRow(message, payload, now)
        for status, group in (("mailed", items), ("silenced", silenced)):
            for i in group:
                key = (channel, recipient, i.plan, i.district, i.indicator, i.epoch, i.kind,
                       i.repeat)  # fmt: skip
                if key in self.memory.items:
                    queued = self.memory.items[key]
                    queued.status = status
                    queued.message_id = message_id if status == "mailed" else None

    async def due_messages(self, now: datetime) -> list[DueMessage]:
        due = [r for r in self.memory.log.values()
               if r.message.status == "sending" and r.next_attempt_at <= now]  # fmt: skip
        due.sort(key=lambda r: r.message.created_at or now)
        return [DueMessage(r.message.message_id, r.message.channel, r.message.recipient,
                           r.payload, r.message.attempts) for r in due]  # fmt: skip

    async def set_status(
        self, message_id: str, status: str, now: datetime, error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:  # fmt: skip
        row = self.memory.log.get(message_id)
        if row is None:
            return
        m = row.message
        row.message = replace(
            m, status=status, last_error=error if error is not None else m.last_error,
            attempts=m.attempts + (status == "transmitting") + (retry_at is not None),
            sent_at=now if status in ("sent", "unconfirmed") else m.sent_at,
        )  # fmt: skip
        row.next_attempt_at = retry_at or row.next_attempt_at

    async def recover_in_flight(self, now: datetime) -> int:
        stuck = [r for r in self.memory.log.values() if r.message.status == "transmitting"]
        for row in stuck:
            row.message = replace(
                row.message, status="unconfirmed", sent_at=now,
                last_error="process stopped after the end of data was written: not resent",
            )  # fmt: skip
        return len(stuck)

    async def send_log(self, limit: int = 500, offset: int = 0) -> list[LoggedMessage]:
        rows = sorted(self.memory.log.values(), key=lambda r: r.message.message_id)
        rows.sort(key=lambda r: r.message.created_at or datetime.min, reverse=True)
        return [r.message for r in rows][offset : offset + limit]


class MemorySilences:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def add_silence(self, silence: Silence) -> None:
        if any(s.id == silence.id for s, _ in self.memory.silences):
            raise ValueError(f"a silence {silence.id} exists")
        self.memory.silences.append((silence, None))

    async def expire_silence(self, silence_id: str, now: datetime) -> bool:
        for n, (s, expired) in enumerate(self.memory.silences):
            if s.id == silence_id and expired is None:
                ended = replace(s, starts_at=min(s.starts_at, now), ends_at=min(s.ends_at, now))
                self.memory.silences[n] = (ended, now)
                return True
        return False

    async def silences(self, limit: int | None = None, offset: int = 0) -> list[Silence]:
        found = [s for s, _ in self.memory.silences]
        return found[offset : None if limit is None else offset + limit]


def memory_repositories(memory: Memory | None = None) -> Repositories:
    memory = memory or Memory()
    return Repositories(
        MemorySeries(memory), MemoryAlerts(memory), MemoryConclusions(memory),
        MemorySendLog(memory), MemorySilences(memory),
    )  # fmt: skip


@dataclass
class Delivery:
    sender: str
    recipient: str
    payload: bytes


class RecordingSender:
    """A mail sender (or webhook poster) that keeps what it was given. `fail_before` raises
    before the end of data (nothing delivered); `ambiguous` raises after it (maybe delivered)."""

    def __init__(self) -> None:
        self.delivered: list[Delivery] = []
        self.calls = 0
        self.fail_before: Exception | None = None
        self.ambiguous = False

    async def deliver(self, sender: str, recipient: str, payload: bytes, before: Hook) -> None:
        self.calls += 1
        if self.fail_before is not None:
            raise self.fail_before
        await before()
        if self.ambiguous:
            raise AmbiguousDelivery("connection lost after the end of data")
        self.delivered.append(Delivery(sender, recipient, payload))


class FixedClock:
    """`now` moves only when a test moves it; every plan's day is `today` (or now's date)."""

    def __init__(self, now: datetime, today: date | None = None) -> None:
        self.at = now
        self.fixed_today = today

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.fixed_today or self.at.date()

    def plan_today(self, plan: Plan) -> date:
        return self.fixed_today or plan.today(self.at)
