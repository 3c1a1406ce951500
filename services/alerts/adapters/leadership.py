"""One alerts process evaluates and sends at a time: a PostgreSQL advisory lock as the lease.

Several replicas of the alerts service may run (a Deployment of two, a host drained); all of
them serve the HTTP API, one of them, the leader, consumes the indicators topic, evaluates and
sends. The leader holds a session-level advisory lock (`pg_try_advisory_lock`) on a connection
of its own: PostgreSQL releases it when that session ends, whether the process exits, is
killed or loses its network, and another replica's next try takes it over. The leader checks
its connection every `check_seconds`; the moment it fails, the loops that need leadership are
cancelled, so a process that may no longer hold the lock stops sending. What the leader
decided and sent is in the database (the send log), so a takeover never sends a mail again:
a message interrupted after its end of data is marked unconfirmed by the new leader, not sent
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)


class LostLeadership(Exception):
    """This process no longer holds the lease: what needed it was cancelled."""


class Leadership:
    """The lease of one schema's alerts leader; `key` names the lock (e.g. the schema)."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        key: str,
        poll_seconds: float = 2.0,
        check_seconds: float = 1.0,
    ) -> None:
        self.connect = connect
        self.key = f"iprwatch-alerts-leader:{key}"
        self.poll_seconds = poll_seconds
        self.check_seconds = check_seconds
        self.leading = asyncio.Event()
        self.standing_by = asyncio.Event()
        self.standing_by.set()
        self.on_change: Callable[[bool], None] = lambda _: None
        self.pid: int | None = None  # the lease session's server process, while connected

    def _set(self, leading: bool) -> None:
        if leading == self.leading.is_set():
            return
        (self.leading.set if leading else self.leading.clear)()
        (self.standing_by.clear if leading else self.standing_by.set)()
        self.on_change(leading)
        log.info(
            "alerts leadership %s", "taken" if leading else "released", extra={"key": self.key}
        )

    async def hold_forever(self, stopping: asyncio.Event) -> None:
        """Try for the lock until it is ours, then keep it while the session lives.

        Raises (to the supervisor, which tries again after its backoff) when the database is
        away or the session is lost; leadership is given up first.
        """
        conn = await self.connect()
        self.pid = conn.get_server_pid()
        try:
            while not stopping.is_set():
                if not self.leading.is_set():
                    taken = await conn.fetchval(
                        "SELECT pg_try_advisory_lock(hashtext($1))", self.key
                    )
                    if taken:
                        self._set(True)
                    else:
                        await _pause(stopping, self.poll_seconds)
                        continue
                await conn.fetchval("SELECT 1")  # the session (and its lock) is still there
                await _pause(stopping, self.check_seconds)
        finally:
            self._set(False)
            self.pid = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)  # ends the session: the lock is free

    async def while_leading(
        self, loop: Callable[[], Awaitable[None]], stopping: asyncio.Event
    ) -> None:
        """Wait for leadership, run `loop` while it lasts; raise `LostLeadership` if it ends."""
        while not self.leading.is_set():
            if stopping.is_set():
                return
            await _wait_either(self.leading, stopping)
        task = asyncio.ensure_future(loop())
        lost = asyncio.ensure_future(self.standing_by.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            lost.cancel()
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        if not stopping.is_set() and self.standing_by.is_set():
            raise LostLeadership("the alerts leadership lease was lost; standing by")


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def _wait_either(first: asyncio.Event, second: asyncio.Event) -> None:
    waits = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
