"""The ports of the alerts service layer: what the use cases need, as typing.Protocol, and the
typed values the repositories hand back (never a database row).

One repository per aggregate: the series (one per plan, district and indicator), the alert
states with the end of a plan (outcomes, final evaluations), the send log (queued notice items
and logged messages), the silences. A write that decides something is one transaction inside
one repository: an alert's transition with the notices it queues, a plan's conclusion with the
alerts it closes and the notices it queues, a message logged with the items it carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from services.alerts.domain.bulletin_mail import Report
from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import Item
from services.alerts.domain.silences import Silence
from services.alerts.metrics import AlertMetrics
from shared.indicator_events import IndicatorChanged
from shared.outcomes import Outcome
from shared.plan import Plan

Key = tuple[str, str, str]  # (plan, district, indicator)
Points = list[tuple[str, float]]  # (month, value), oldest first
SeriesUpdate = tuple[str, str, str, int, Sequence[tuple[str, float]]]  # key, seq, points
Notice = tuple[str, str, Item]  # (channel, recipient, item)
Queued = tuple[str, str, Item, datetime]  # (channel, recipient, item, queued at)
Closed = tuple[str, str, AlertState, str, dict[str, Any]]  # district, indicator, state, status


# --- typed values --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAlert:
    """One key's alert as last evaluated: its life-cycle state, status and snapshot."""

    plan: str
    district: str
    indicator: str
    alert: AlertState
    status: str
    repeats: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class HeldOutcome:
    """A recorded outcome of an ended plan, with how many times it changed (its revision)."""

    district: str
    indicator: str
    outcome: str
    value: float | None
    target: float | None
    shortfall: float | None
    period: str | None
    revision: int


@dataclass(frozen=True)
class DueMessage:
    """A logged message to (re)send now."""

    message_id: str
    channel: str
    recipient: str
    payload: bytes
    attempts: int


@dataclass(frozen=True)
class LoggedMessage:
    """A row of the send log as the API shows it."""

    message_id: str
    channel: str
    recipient: str
    subject: str
    items: list[str]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime | None
    sent_at: datetime | None


# --- repositories --------------------------------------------------------------------------


class SeriesRepository(Protocol):
    async def save_series(
        self, plan: str, district: str, indicator: str, seq: int,
        points: Sequence[tuple[str, float]],
    ) -> bool:  # fmt: skip
        """Store the series if `seq` is newer than the stored one; False for a stale one."""

    async def save_many(self, rows: Sequence[SeriesUpdate]) -> set[Key]:
        """Store each (key, seq, points) whose `seq` is newer than the stored one; the keys
        stored."""

    async def points(self, plan: str, district: str, indicator: str) -> Points: ...

    async def all_series(self, plan: str | None = None) -> dict[Key, Points]:
        """Every stored series (of `plan`, if given)."""


class AlertRepository(Protocol):
    async def alert(self, plan: str, district: str, indicator: str) -> tuple[AlertState, int]:
        """The key's alert state and its repeat count (a new key: inactive, 0)."""

    async def save_alert(
        self, plan: str, district: str, indicator: str, alert: AlertState, repeats: int,
        status: str, snapshot: dict[str, Any], notices: Sequence[Notice], now: datetime,
    ) -> None:  # fmt: skip
        """Store the alert and queue its notices (each item once), in one transaction."""

    async def alerts(
        self,
        state: str | None,
        district: str | None,
        indicator: str | None,
        limit: int | None = None,
        offset: int = 0,
        plan: str | None = None,
    ) -> list[StoredAlert]:
        """Alerts by plan, district, indicator; `state="resolved"`: inactive after a firing."""


class ConclusionRepository(Protocol):
    async def concluded(self, plan: str) -> bool:
        """Whether the plan's final evaluation has been decided (and its notices queued)."""

    async def outcomes(self, plan: str) -> dict[tuple[str, str], HeldOutcome]: ...

    async def conclude(
        self, plan: str, outcomes: Sequence[Outcome], revisions: dict[tuple[str, str], int],
        closed: Sequence[Closed], notices: Sequence[Notice], now: datetime, first: bool,
    ) -> bool:  # fmt: skip
        """Record outcomes, close the plan's alerts, queue the notices, in one transaction;
        with `first`, only if the plan was not concluded yet (False then)."""


class SendLogRepository(Protocol):
    async def queued(self) -> list[Queued]:
        """Notice items not yet in a message, oldest first."""

    async def notified_recipients(
        self, plan: str, district: str, indicator: str, epoch: int
    ) -> list[tuple[str, str]]:
        """(channel, recipient) pairs told (not silenced) of this firing."""

    async def log_message(
        self, message_id: str, channel: str, recipient: str, subject: str, payload: bytes,
        items: Sequence[Item], silenced: Sequence[Item], now: datetime,
    ) -> None:  # fmt: skip
        """Log the message (`sending`, if it has items) and mark its items and the silenced
        ones, in one transaction; a message id logged before is left as it is."""

    async def due_messages(self, now: datetime) -> list[DueMessage]: ...

    async def set_status(
        self, message_id: str, status: str, now: datetime, error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:  # fmt: skip
        """`transmitting` and a retry count an attempt; `sent`/`unconfirmed` set `sent_at`."""

    async def recover_in_flight(self, now: datetime) -> int:
        """At start: messages left `transmitting` become `unconfirmed`; how many."""

    async def send_log(self, limit: int = 500, offset: int = 0) -> list[LoggedMessage]:
        """Newest first."""


class SilenceRepository(Protocol):
    async def add_silence(self, silence: Silence) -> None: ...

    async def expire_silence(self, silence_id: str, now: datetime) -> bool:
        """End a silence now; False if there is none or it was expired before."""

    async def silences(self, limit: int | None = None, offset: int = 0) -> list[Silence]:
        """In the order they were made."""


@dataclass(frozen=True)
class Repositories:
    series: SeriesRepository
    alerts: AlertRepository
    conclusions: ConclusionRepository
    send_log: SendLogRepository
    silences: SilenceRepository


# --- senders, clock, the change feed -------------------------------------------------------


class AmbiguousDelivery(Exception):
    """The end of data (or the request) went out but no verdict came back: the receiver may
    hold the message, so it is never sent again."""


class Rejected(Exception):
    """The receiver refused the message after the end of data: it does not hold it."""


Hook = Callable[[], Awaitable[None]]


class MailSender(Protocol):
    async def deliver(
        self, sender: str, recipient: str, payload: bytes, before_end_of_data: Hook
    ) -> None:
        """Send one logged mail; `before_end_of_data` is awaited just before the end of data.
        Raises AmbiguousDelivery after it without a verdict, anything else before it."""


class WebhookSender(Protocol):
    async def deliver(self, sender: str, url: str, body: bytes, before_send: Hook) -> None:
        """Post one logged body; AmbiguousDelivery once a request went out unanswered."""


class Clock(Protocol):
    def now(self) -> datetime: ...
    def today(self) -> date: ...
    def plan_today(self, plan: Plan) -> date: ...


class ChangeSink(Protocol):
    """What the indicator-change feed drives: the alerting use case."""

    metrics: AlertMetrics
    caught_up: asyncio.Event

    async def on_changes(self, changes: Sequence[IndicatorChanged]) -> None: ...


# The monthly bulletin (service/bulletin.py)


class MakeFailed(Exception):
    """The bulletin could not be made now (its data source did not answer): try later."""


class BulletinMaker(Protocol):
    async def make(self, plan: str, month: str, made_on: date) -> Report: ...


class ReportStore(Protocol):
    async def made(self, plan: str, month: str) -> bool: ...

    async def save(
        self, report: Report, mails: Sequence[tuple[str, str, str, bytes]], now: datetime
    ) -> bool: ...
