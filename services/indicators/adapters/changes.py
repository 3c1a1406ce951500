"""Totals changed: the fold's transaction NOTIFYs a channel of its schema when it adds deltas
(PostgreSQL delivers it at commit, once per transaction, never for a rollback), and the
snapshot LISTENs on a connection of its own (implements `service.ports.ChangeSignal`).

Any process folding into the schema wakes every process serving it, so the API follows the
fold within a refresh rather than a polling interval. A lost listening connection is opened
again on the next wait; meanwhile the snapshot refreshes on its interval as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from shared.settings import PostgresSettings

log = logging.getLogger(__name__)

# The channel of the schema the statement runs in (the pool's search_path).
NOTIFY_SQL = "SELECT pg_notify('ipr_totals.' || current_schema(), '')"


def channel_of(schema: str) -> str:
    return f"ipr_totals.{schema}"


class PostgresChangeSignal:
    def __init__(self, postgres: PostgresSettings, schema: str) -> None:
        self.dsn = postgres.dsn.get_secret_value()
        self.channel = channel_of(schema)
        self.conn: asyncpg.Connection | None = None
        self.changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Return when a change was committed since the last return, or after `timeout`."""
        if self.conn is None or self.conn.is_closed():
            await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()

    async def _listen(self) -> None:
        try:
            self.conn = await asyncpg.connect(self.dsn, timeout=5)
            await self.conn.add_listener(self.channel, self._notified)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("cannot listen for changes of the totals (%s); refreshing on the "
                        "interval only", exc)  # fmt: skip
            await self.close()
            return
        self.changed.set()  # whatever was missed while not listening

    def _notified(self, *_: object) -> None:
        self.changed.set()

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close(timeout=5)
        self.conn = None
