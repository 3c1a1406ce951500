"""The send log in PostgreSQL: queued notice items, and the messages composed from them.

A message's row (its bytes and deterministic Message-ID, status `sending`) is written in the
same transaction that marks its items, before any connection; see docs/alerts.md for the
statuses (`sending`, `transmitting`, `sent`, `unconfirmed`) and what each guarantees.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.alerts.adapters.notice_rows import item_of, json_of
from services.alerts.domain.notices import Item
from services.alerts.service.ports import DueMessage, LoggedMessage, Queued


class PgSendLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def queued(self) -> list[Queued]:
        rows = await self.pool.fetch(
            "SELECT * FROM notice_items WHERE status = 'queued' ORDER BY created_at, plan,"
            " district, indicator"
        )
        return [(r["channel"], r["recipient"], item_of(r), r["created_at"]) for r in rows]

    async def notified_recipients(
        self, plan: str, district: str, indicator: str, epoch: int
    ) -> list[tuple[str, str]]:
        """(channel, recipient) pairs that were told (not silenced) of this firing."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT channel, recipient FROM notice_items WHERE plan = $1"
            " AND district = $2 AND indicator = $3 AND epoch = $4"
            " AND kind IN ('firing', 'repeat') AND status <> 'silenced'"
            " ORDER BY channel, recipient",
            plan, district, indicator, epoch,
        )  # fmt: skip
        return [(r["channel"], r["recipient"]) for r in rows]

    async def log_message(
        self, message_id: str, channel: str, recipient: str, subject: str, payload: bytes,
        items: Sequence[Item], silenced: Sequence[Item], now: datetime,
    ) -> None:  # fmt: skip
        """Write the send-log row (status `sending`) and mark its items, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if items:
                await conn.execute(
                    "INSERT INTO send_log (message_id, channel, recipient, subject, payload,"
                    " items, status, created_at, next_attempt_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6::jsonb,'sending',$7,$7)"
                    " ON CONFLICT DO NOTHING",
                    message_id, channel, recipient, subject, payload,
                    json.dumps([i.key for i in items]), now,
                )  # fmt: skip
            for status, group in (("mailed", items), ("silenced", silenced)):
                await conn.executemany(
                    "UPDATE notice_items SET status = $1, message_id = $2 WHERE channel = $3"
                    " AND recipient = $4 AND district = $5 AND indicator = $6 AND epoch = $7"
                    " AND kind = $8 AND repeat = $9 AND plan = $10",
                    [(status, message_id if status == "mailed" else None, channel, recipient,
                      i.district, i.indicator, i.epoch, i.kind, i.repeat, i.plan)
                     for i in group],
                )  # fmt: skip

    async def due_messages(self, now: datetime) -> list[DueMessage]:
        rows = await self.pool.fetch(
            "SELECT message_id, channel, recipient, payload, attempts FROM send_log"
            " WHERE status = 'sending' AND next_attempt_at <= $1 ORDER BY created_at",
            now,
        )
        return [
            DueMessage(
                r["message_id"],
                r["channel"],
                r["recipient"],
                bytes(r["payload"]),
                int(r["attempts"]),
            )  # fmt: skip
            for r in rows
        ]

    async def set_status(
        self, message_id: str, status: str, now: datetime, error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:  # fmt: skip
        await self.pool.execute(
            "UPDATE send_log SET status = $2, last_error = COALESCE($4, last_error),"
            " attempts = attempts + CASE WHEN $2 IN ('transmitting') THEN 1 ELSE 0 END"
            "   + CASE WHEN $5::timestamptz IS NOT NULL THEN 1 ELSE 0 END,"
            " next_attempt_at = COALESCE($5, next_attempt_at),"
            " sent_at = CASE WHEN $2 IN ('sent', 'unconfirmed') THEN $3 ELSE sent_at END"
            " WHERE message_id = $1",
            message_id, status, now, error, retry_at,
        )  # fmt: skip

    async def recover_in_flight(self, now: datetime) -> int:
        """At start: a row left `transmitting` had its end-of-data written: never resend it."""
        result = await self.pool.execute(
            "UPDATE send_log SET status = 'unconfirmed', sent_at = $1,"
            " last_error = 'process stopped after the end of data was written: not resent'"
            " WHERE status = 'transmitting'",
            now,
        )
        return int(result.split()[-1])

    async def send_log(self, limit: int = 500, offset: int = 0) -> list[LoggedMessage]:
        rows = await self.pool.fetch(
            "SELECT message_id, channel, recipient, subject, items, status, attempts,"
            " last_error, created_at, sent_at FROM send_log"
            " ORDER BY created_at DESC, message_id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [
            LoggedMessage(
                r["message_id"],
                r["channel"],
                r["recipient"],
                r["subject"],
                list(json_of(r["items"])),
                r["status"],
                int(r["attempts"]),
                r["last_error"],
                r["created_at"],
                r["sent_at"],
            )  # fmt: skip
            for r in rows
        ]
