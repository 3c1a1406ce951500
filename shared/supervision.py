"""Background loops that survive what they cannot help: one supervision policy for every service.

A service's background loops (the fold, the outbox relay, the snapshot refresher, the alerts
consumer, evaluation, dispatch) run under `Supervisor.run`. When a loop raises (PostgreSQL or
Kafka went away, a bug), the supervisor logs why, marks the loop `retrying` (so `/readyz`
answers 503 and `ipr_background_loop_up{loop}` is 0), waits with exponential backoff and
jitter (tenacity's `wait_exponential_jitter`), and starts the loop again. It never stops the
process and never gives up: a database restart is survived, not obeyed. A loop that ran for a
while before it failed starts again from the shortest wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge
from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the n-th restart of a failing loop."""

    initial: float = 0.5
    maximum: float = 30.0
    healthy_after: float = 60.0  # a run this long resets the wait to `initial`

    def waits(self) -> wait_base:
        return wait_exponential_jitter(
            multiplier=self.initial, max=self.maximum, jitter=self.initial
        )


@dataclass
class LoopState:
    up: bool = False
    restarts: int = 0
    last_error: str | None = None
    since: float = field(default_factory=time.monotonic)


class SupervisorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "ipr_background_loop_up",
            "1 while the background loop runs, 0 while it waits to be restarted after a failure",
            ["loop"],
            registry=registry,
        )
        self.restarts = Counter(
            "ipr_background_loop_restarts_total",
            "Restarts of a background loop after it failed (database or broker away, a bug)",
            ["loop"],
            registry=registry,
        )


class Supervisor:
    """Runs named loops until `stopping` is set, restarting each one that fails."""

    def __init__(self, registry: CollectorRegistry, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.metrics = SupervisorMetrics(registry)
        self.states: dict[str, LoopState] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, loop: Loop, stopping: asyncio.Event) -> asyncio.Task[None]:
        """Run `loop` under supervision in a task of its own."""
        task = asyncio.create_task(self.run(name, loop, stopping), name=f"loop:{name}")
        self.tasks.append(task)
        return task

    def checks(self) -> dict[str, bool]:
        """For `/readyz`: each loop's name (prefixed `loop:`) and whether it runs now."""
        return {f"loop:{name}": state.up for name, state in self.states.items()}

    async def run(self, name: str, loop: Loop, stopping: asyncio.Event) -> None:
        state = self.states.setdefault(name, LoopState())
        waits = self.backoff.waits()
        failures = 0
        while not stopping.is_set():
            self._mark(name, state, up=True)
            started = time.monotonic()
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is logged and retried
                if stopping.is_set():
                    return
                if time.monotonic() - started >= self.backoff.healthy_after:
                    failures = 0
                failures += 1
                delay = waits(cast(RetryCallState, _RetryState(failures)))
                state.restarts += 1
                state.last_error = f"{type(exc).__name__}: {exc}"[:500]
                self.metrics.restarts.labels(name).inc()
                self._mark(name, state, up=False)
                log.warning(
                    "%s loop failed; restarting in %.1f s",
                    name,
                    delay,
                    exc_info=True,
                    extra={"loop": name, "restarts": state.restarts, "retry_in_seconds": delay},
                )
                await _pause(stopping, delay)
            else:
                return  # a loop returns only when `stopping` is set
        self._mark(name, state, up=False)

    def _mark(self, name: str, state: LoopState, *, up: bool) -> None:
        if state.up != up:
            state.since = time.monotonic()
        state.up = up
        self.metrics.up.labels(name).set(1 if up else 0)

    async def stop(self, timeout: float | None = None) -> None:
        """Wait up to `timeout` for the loops to finish (set `stopping` first), then cancel."""
        if self.tasks and timeout:
            await asyncio.wait(self.tasks, timeout=timeout)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class _RetryState:
    """The little of tenacity's RetryCallState that its wait strategies read."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return
