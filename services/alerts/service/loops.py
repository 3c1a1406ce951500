"""The background use cases: scheduled evaluation (the path moves with time) and dispatch.

Each runs under the service's supervisor, only while this replica leads: a failure
(PostgreSQL away) propagates, the supervisor waits with backoff and starts the loop again.
Each returns once `stopping` is set, after finishing what it is doing (a mail in flight
completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.alerts.service.alerting import Alerting
from services.alerts.service.dispatch import Dispatcher

log = logging.getLogger(__name__)


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def evaluate_forever(alerting: Alerting, every: float, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await alerting.evaluate_all()
        await _pause(stopping, every)


async def dispatch_forever(dispatcher: Dispatcher, every: float, stopping: asyncio.Event) -> None:
    # Only this loop sends, and a run starts after the previous one ended: a message still
    # `transmitting` had its end of data written by a run that failed (or a process that died)
    # before it could record the answer. It is never sent again.
    unconfirmed = await dispatcher.send_log.recover_in_flight(dispatcher.clock.now())
    if unconfirmed:
        log.warning(
            "messages interrupted after their end of data: marked unconfirmed, not resent",
            extra={"count": unconfirmed},
        )
    while not stopping.is_set():
        await dispatcher.compose_due()
        await dispatcher.send_due(stopping)
        await _pause(stopping, every)
