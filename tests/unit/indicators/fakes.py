"""In-memory adapters of the indicators' ports: the same unique keys and all-or-nothing
transactions as PostgreSQL, and none of the fold's rules (those are the service's and the
domain's). `tests/unit/indicators/contracts.py` holds both to the same behaviour."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial

from services.indicators.domain.acts import Act
from services.indicators.domain.batch import NO_OFFSET
from services.indicators.domain.fold import Deltas
from services.indicators.service.ports import (
    Changed,
    MonthlyRow,
    Pending,
    PlanKeys,
    RecentAct,
    RecordFault,
)
from shared.divisions import within

Undo = Callable[[], object]
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    month: date
    published: int = 0


class MemoryStore:
    """FoldStore, Outbox, Totals and RecentActs in dictionaries.

    `refuse(act)` true makes a transaction recording that act fail with `RecordFault` (by
    default: a NUL byte in its text, which PostgreSQL cannot store); `away` makes every
    transaction fail as a lost connection.
    """

    def __init__(self, refuse: Callable[[Act], bool] | None = None) -> None:
        self.refuse = refuse or holds_nul
        self.away = False
        self.acts: dict[tuple[str, str], Act] = {}
        self.natural: set[tuple[str, str]] = set()
        self.by_key: dict[str, list[Act]] = defaultdict(list)
        self.deltas: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
        self.offsets: dict[tuple[str, int], int] = {}
        self.outbox: dict[tuple[str, str, str], OutboxRow] = {}
        self.versions: dict[str, str] = {}
        self.transactions = 0  # begun
        self.stored: list[dict[int, int]] = []  # the next offsets of each committed transaction

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        self.transactions += 1
        if self.away:
            raise ConnectionResetError("connection reset by peer")
        tx = MemoryTransaction(self)
        try:
            yield tx
        except BaseException:
            for undo in reversed(tx.undo):
                undo()
            raise
        self.stored.extend(tx.stored)

    async def stored_offsets(self, topic: str) -> dict[int, int]:
        return {p: n for (t, p), n in self.offsets.items() if t == topic and n >= 0}

    async def pending(self, limit: int = 1000) -> list[Pending]:
        rows = [
            Pending(plan, district, indicator, row.seq, row.month)
            for (plan, district, indicator), row in sorted(self.outbox.items())
            if row.seq > row.published
        ]
        return rows[:limit]

    async def mark_published(self, sent: Sequence[Pending]) -> None:
        for row in sent:
            key = (row.plan, row.district, row.indicator)
            entry = self.outbox[key]
            self.outbox[key] = replace(entry, published=max(entry.published, row.seq))

    async def publish_changed_plans(self, keys: PlanKeys) -> list[str]:
        changed = []
        for plan, (digest, pairs) in sorted(keys.items()):
            if self.versions.get(plan) == digest:
                continue
            changed.append(plan)
            bump(self.outbox, {(plan, d, i, _EPOCH) for d, i in pairs}, [])
            self.versions[plan] = digest
        return changed

    async def monthly_rows(self) -> list[MonthlyRow]:
        return [(d, i, m, a) for (d, i, m), a in self.deltas.items() if a != 0]

    async def latest_acts(self, area: str, limit: int) -> list[RecentAct]:
        found = sorted(
            (a for a in self.acts.values() if within(area, a.district)),
            key=lambda a: (-a.time.timestamp(), a.source, a.id),
        )
        return [
            RecentAct(a.type, a.subject, a.district, a.time, a.year, a.indicator, a.period)
            for a in found[:limit]
        ]

    def nonzero(self) -> dict[tuple[str, str, date], Decimal]:
        return {k: v for k, v in self.deltas.items() if v != 0}


def holds_nul(act: Act) -> bool:
    return any(isinstance(field, str) and "\x00" in field for field in act)


class MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.undo: list[Undo] = []
        self.stored: list[dict[int, int]] = []

    async def claim_offsets(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        offsets = self.store.offsets
        for p in partitions:
            if (topic, p) not in offsets:
                offsets[(topic, p)] = NO_OFFSET
                self.undo.append(partial(offsets.pop, (topic, p)))
        return {p: offsets[(topic, p)] for p in partitions}

    async def record(self, acts: Sequence[Act]) -> list[Act]:
        store, new = self.store, []
        for act in acts:
            if self.store.refuse(act):
                raise RecordFault(f"DataError: cannot store the act {act.id!r}")
            ident = (act.source, act.id)
            nkey = (act.type, act.subject) if act.subject is not None else None
            if ident in store.acts or (nkey is not None and nkey in store.natural):
                continue
            store.acts[ident] = act
            self.undo.append(partial(store.acts.pop, ident))
            if nkey is not None:
                store.natural.add(nkey)
                self.undo.append(partial(store.natural.discard, nkey))
            new.append(act)
        return new

    async def states(self, acts: Sequence[Act]) -> dict[str, list[Act]]:
        store = self.store
        new = {(a.source, a.id) for a in acts}
        keys = sorted({a.state_key for a in acts if a.state_key is not None})
        states = {
            key: [a for a in store.by_key.get(key, []) if (a.source, a.id) not in new]
            for key in keys
        }
        for act in acts:
            if act.state_key is not None:
                store.by_key[act.state_key].append(act)
                self.undo.append(store.by_key[act.state_key].pop)
        return states

    async def add_deltas(self, deltas: Deltas) -> None:
        totals = self.store.deltas
        for key, amount in deltas.items():
            totals[key] += Decimal(amount)
            self.undo.append(partial(totals.__setitem__, key, totals[key] - Decimal(amount)))

    async def bump_outbox(self, changed: Iterable[Changed]) -> None:
        bump(self.store.outbox, changed, self.undo)

    async def store_offsets(self, topic: str, next_offsets: Mapping[int, int]) -> None:
        offsets = self.store.offsets
        for p, n in next_offsets.items():
            before = offsets[(topic, p)]
            offsets[(topic, p)] = n
            self.undo.append(partial(offsets.__setitem__, (topic, p), before))
        self.stored.append(dict(next_offsets))


def bump(
    outbox: dict[tuple[str, str, str], OutboxRow], changed: Iterable[Changed], undo: list[Undo]
) -> None:
    """Each (plan, division, indicator) once: its seq up by one, its month the latest."""
    latest: dict[tuple[str, str, str], date] = {}
    for plan, district, indicator, month in changed:
        key = (plan, district, indicator)
        latest[key] = max(latest.get(key, month), month)
    for key, month in latest.items():
        before = outbox.get(key)
        if before is None:
            outbox[key] = OutboxRow(1, month)
            undo.append(partial(outbox.pop, key))
        else:
            outbox[key] = OutboxRow(before.seq + 1, max(before.month, month), before.published)
            undo.append(partial(outbox.__setitem__, key, before))
