"""The ports of the indicators' service layer: what its use cases need from the outside.

The fold needs a store that applies one batch in one transaction (`FoldStore`, whose
`FoldTransaction` offers the steps; the rules of which records to apply are in
`domain/batch.py`, not in the store), a dead-letter topic, and the outbox the relay reads; the
relay needs a publisher of `IndicatorChanged` events; the read side needs the monthly totals,
and a division's page its latest acts (`RecentActs`) and its current alerts (`CurrentAlerts`,
read from the alerts service over HTTP).
The PostgreSQL and Kafka adapters implement them (`adapters/`); the in-memory fakes of the
unit tests too, and one contract suite runs against both (`tests/unit/indicators/contracts.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from services.indicators.domain.acts import Act
from services.indicators.domain.fold import Deltas
from shared.indicator_events import IndicatorChanged

Changed = tuple[str, str, str, date]  # (plan, division, indicator, month) whose value changed
MonthlyRow = tuple[str, str, date, Decimal]  # (division code, indicator, month, summed delta)
PlanKeys = Mapping[str, tuple[str, list[tuple[str, str]]]]  # plan -> (digest, (division, ind.))


class TransactionConflict(Exception):
    """The database ended the transaction to resolve a conflict (a deadlock, a serialization
    failure, tables swapped by a rebuild): the same transaction may simply be tried again."""


class RecordFault(Exception):
    """The database refuses what one record of the batch holds (a byte it cannot store, a
    number out of range): the batch goes through without that record."""


@dataclass(frozen=True)
class Pending:
    """An outbox row waiting for the relay."""

    plan: str
    district: str
    indicator: str
    seq: int
    month: date


class FoldTransaction(Protocol):
    """The steps of applying one batch; all or nothing (the transaction's)."""

    async def claim_offsets(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Lock the partitions' offsets rows; each one's stored next offset (-1: none)."""
        ...

    async def record(self, acts: Sequence[Act]) -> list[Act]:
        """Record the acts; return those new (no act with its (source, id) or its natural key
        (type, subject) recorded before), in the order given."""
        ...

    async def states(self, acts: Sequence[Act]) -> dict[str, list[Act]]:
        """Lock the state keys of `acts` (just recorded) and return, per key, the acts
        recorded under it before them (every key of `acts` present, maybe empty)."""
        ...

    async def add_deltas(self, deltas: Deltas) -> None: ...

    async def bump_outbox(self, changed: Iterable[Changed]) -> None:
        """Raise the sequence number of each changed (plan, division, indicator) by one."""
        ...

    async def store_offsets(self, topic: str, next_offsets: Mapping[int, int]) -> None: ...


class FoldStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[FoldTransaction]:
        """One transaction; raises `TransactionConflict` or `RecordFault` for those cases."""
        ...

    async def stored_offsets(self, topic: str) -> dict[int, int]: ...


class Outbox(Protocol):
    async def pending(self, limit: int = 1000) -> list[Pending]: ...

    async def mark_published(self, sent: Sequence[Pending]) -> None: ...

    async def publish_changed_plans(self, keys: PlanKeys) -> list[str]:
        """Queue every key of each plan new or changed (by digest); the plans queued."""
        ...


class Totals(Protocol):
    async def monthly_rows(self) -> list[MonthlyRow]:
        """Every (division, indicator, month, summed delta) row whose sum is not zero."""
        ...


@dataclass(frozen=True)
class RecentAct:
    """One recorded act as a division's page lists it."""

    type: str
    subject: str | None
    district: str
    time: datetime
    year: int | None = None  # a revenue report's year
    indicator: str | None = None  # a statistic's indicator and period
    period: str | None = None


class RecentActs(Protocol):
    async def latest_acts(self, area: str, limit: int) -> list[RecentAct]:
        """The latest `limit` acts recorded in the divisions within `area` (itself, or every
        division whose code lies in it by GB/T 2260 prefix, as `shared.divisions.within`):
        newest act time first, then by (source, id)."""
        ...


@dataclass(frozen=True)
class CurrentAlert:
    """An alert of the alerts service that is pending or firing."""

    indicator: str
    state: str  # pending | firing
    status: str  # at_risk | behind | ...
    since: datetime | None
    value: float | None
    required: float | None
    month: str | None


@dataclass(frozen=True)
class AlertsAnswer:
    """What the alerts service said: `unconfigured` (no address set), `unavailable` (it did
    not answer in time, or not as expected; `reason` says how) or `ok` with the alerts."""

    outcome: Literal["ok", "unconfigured", "unavailable"]
    alerts: tuple[CurrentAlert, ...] = ()
    reason: str | None = None


class CurrentAlerts(Protocol):
    async def current(self, plan: str, district: str) -> AlertsAnswer:
        """The plan's pending and firing alerts of one division; never raises."""
        ...


class ChangeSignal(Protocol):
    async def wait(self, timeout: float) -> None:
        """Return once totals changed since the last return (committed by any process), or
        after `timeout` seconds."""
        ...


class DeadLetters(Protocol):
    async def send(self, record: Any, reason: str, detail: str) -> None: ...


class ChangePublisher(Protocol):
    async def publish(self, changes: Sequence[IndicatorChanged]) -> None:
        """Publish every change; return once the broker acknowledged them all."""
        ...


class History(Protocol):
    """Every record of the events topic up to the end offsets taken when it opens (a rebuild
    reads these), in batches."""

    async def size(self) -> int: ...

    def batches(self, lane: int = 0, lanes: int = 1) -> AsyncIterator[Sequence[Any]]:
        """The batches of the partitions whose number modulo `lanes` is `lane`."""
        ...
