"""The background loops: scheduled evaluation (the path moves with time) and dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.alerts.dispatch import Dispatcher
from services.alerts.handlers import Alerting

log = logging.getLogger(__name__)


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def evaluate_forever(alerting: Alerting, every: float, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await alerting.evaluate_all()
        except Exception:
            log.exception("scheduled evaluation failed; next try on schedule")
        await _pause(stopping, every)


async def dispatch_forever(dispatcher: Dispatcher, every: float, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await dispatcher.compose_due()
            await dispatcher.send_due()
        except Exception:
            log.exception("dispatch failed; next try on schedule")
        await _pause(stopping, every)
