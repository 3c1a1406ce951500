"""The alerts schema in PostgreSQL: series, alert states, notice items, the send log, silences.

Every write that decides something (a new series, an alert transition and the notices it
queues, a mail composed from queued notices) is one transaction, so a restart resumes from a
consistent state and re-decides nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import Item
from services.alerts.domain.silences import Matcher, Silence

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    district text NOT NULL, indicator text NOT NULL, seq bigint NOT NULL,
    points jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, indicator));
CREATE TABLE IF NOT EXISTS alerts (
    district text NOT NULL, indicator text NOT NULL, state text NOT NULL,
    severity text NOT NULL, status text NOT NULL, active_since timestamptz,
    firing_since timestamptz, clear_since timestamptz, resolved_at timestamptz,
    epoch int NOT NULL DEFAULT 0, last_notified_at timestamptz, repeats int NOT NULL DEFAULT 0,
    snapshot jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, indicator));
CREATE TABLE IF NOT EXISTS notice_items (
    channel text NOT NULL, recipient text NOT NULL, district text NOT NULL,
    indicator text NOT NULL, epoch int NOT NULL, kind text NOT NULL, repeat int NOT NULL,
    snapshot jsonb NOT NULL, created_at timestamptz NOT NULL, status text NOT NULL,
    message_id text,
    PRIMARY KEY (channel, recipient, district, indicator, epoch, kind, repeat));
CREATE INDEX IF NOT EXISTS notice_items_queued ON notice_items (status) WHERE status = 'queued';
CREATE TABLE IF NOT EXISTS send_log (
    message_id text PRIMARY KEY, channel text NOT NULL, recipient text NOT NULL,
    subject text NOT NULL, payload bytea NOT NULL, items jsonb NOT NULL, status text NOT NULL,
    attempts int NOT NULL DEFAULT 0, last_error text, created_at timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL, sent_at timestamptz);
CREATE TABLE IF NOT EXISTS silences (
    id text PRIMARY KEY, matchers jsonb NOT NULL, starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL, created_by text NOT NULL, comment text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE silences ADD COLUMN IF NOT EXISTS expired_at timestamptz;
"""

_ALERT_FIELDS = (
    "state",
    "severity",
    "active_since",
    "firing_since",
    "clear_since",
    "resolved_at",
    "epoch",
    "last_notified_at",
)


class AlertStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA)

    # --- series -------------------------------------------------------------------------

    async def save_series(
        self, district: str, indicator: str, seq: int, points: Sequence[tuple[str, float]]
    ) -> bool:
        """Store the series if `seq` is newer than the stored one; False for a stale message."""
        row = await self.pool.fetchrow(
            "INSERT INTO series (district, indicator, seq, points) VALUES ($1, $2, $3, $4::jsonb)"
            " ON CONFLICT (district, indicator) DO UPDATE"
            " SET seq = EXCLUDED.seq, points = EXCLUDED.points, updated_at = now()"
            " WHERE series.seq < EXCLUDED.seq RETURNING seq",
            district,
            indicator,
            seq,
            json.dumps([[m, v] for m, v in points]),
        )
        return row is not None

    async def save_many(
        self, rows: Sequence[tuple[str, str, int, Sequence[tuple[str, float]]]]
    ) -> set[tuple[str, str]]:
        """`save_series` for many keys (each once) in one statement; the keys stored."""
        if not rows:
            return set()
        stored = await self.pool.fetch(
            "INSERT INTO series (district, indicator, seq, points)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])"
            " ON CONFLICT (district, indicator) DO UPDATE"
            " SET seq = EXCLUDED.seq, points = EXCLUDED.points, updated_at = now()"
            " WHERE series.seq < EXCLUDED.seq RETURNING district, indicator",
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
            [json.dumps([[m, v] for m, v in r[3]]) for r in rows],
        )  # fmt: skip
        return {(r["district"], r["indicator"]) for r in stored}

    async def points(self, district: str, indicator: str) -> list[tuple[str, float]]:
        raw = await self.pool.fetchval(
            "SELECT points FROM series WHERE district = $1 AND indicator = $2", district, indicator
        )
        return [(m, float(v)) for m, v in json.loads(raw)] if raw else []

    async def all_series(self) -> dict[tuple[str, str], list[tuple[str, float]]]:
        rows = await self.pool.fetch("SELECT district, indicator, points FROM series")
        return {
            (r["district"], r["indicator"]): [(m, float(v)) for m, v in json.loads(r["points"])]
            for r in rows
        }

    # --- alerts -------------------------------------------------------------------------

    async def alert(self, district: str, indicator: str) -> tuple[AlertState, int]:
        row = await self.pool.fetchrow(
            "SELECT * FROM alerts WHERE district = $1 AND indicator = $2", district, indicator
        )
        if row is None:
            return AlertState(), 0
        return AlertState(**{k: row[k] for k in _ALERT_FIELDS}), int(row["repeats"])

    async def save_alert(
        self,
        district: str,
        indicator: str,
        alert: AlertState,
        repeats: int,
        status: str,
        snapshot: dict[str, Any],
        notices: Sequence[tuple[str, str, Item]],  # (channel, recipient, item)
        now: datetime,
    ) -> None:
        values = asdict(alert)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO alerts (district, indicator, state, severity, active_since,"
                " firing_since, clear_since, resolved_at, epoch, last_notified_at, repeats,"
                " status, snapshot, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13::jsonb,$14)"
                " ON CONFLICT (district, indicator) DO UPDATE SET state=$3, severity=$4,"
                " active_since=$5, firing_since=$6, clear_since=$7, resolved_at=$8, epoch=$9,"
                " last_notified_at=$10, repeats=$11, status=$12, snapshot=$13::jsonb,"
                " updated_at=$14",
                district,
                indicator,
                *(values[k] for k in _ALERT_FIELDS),
                repeats,
                status,
                json.dumps(snapshot),
                now,
            )
            await conn.executemany(
                "INSERT INTO notice_items (channel, recipient, district, indicator, epoch, kind,"
                " repeat, snapshot, created_at, status)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,'queued') ON CONFLICT DO NOTHING",
                [
                    (
                        c,
                        r,
                        i.district,
                        i.indicator,
                        i.epoch,
                        i.kind,
                        i.repeat,
                        json.dumps(i.snapshot),
                        now,
                    )
                    for c, r, i in notices
                ],
            )

    async def alerts(
        self,
        state: str | None,
        district: str | None,
        indicator: str | None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[asyncpg.Record]:
        query = "SELECT * FROM alerts WHERE true"
        args: list[Any] = []
        if state == "resolved":
            query += " AND state = 'inactive' AND resolved_at IS NOT NULL"
        elif state:
            args.append(state)
            query += f" AND state = ${len(args)}"
        for column, value in (("district", district), ("indicator", indicator)):
            if value:
                args.append(value)
                query += f" AND {column} = ${len(args)}"
        args += [limit, offset]
        query += f" ORDER BY district, indicator LIMIT ${len(args) - 1} OFFSET ${len(args)}"
        return list(await self.pool.fetch(query, *args))

    async def notified_recipients(
        self, district: str, indicator: str, epoch: int
    ) -> list[tuple[str, str]]:
        """(channel, recipient) pairs that were told (not silenced) of this firing."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT channel, recipient FROM notice_items WHERE district = $1"
            " AND indicator = $2 AND epoch = $3 AND kind <> 'resolved' AND status <> 'silenced'",
            district,
            indicator,
            epoch,
        )
        return [(r["channel"], r["recipient"]) for r in rows]

    # --- notices and the send log ----------------------------------------------------

    async def queued(self) -> list[tuple[str, str, Item, datetime]]:
        rows = await self.pool.fetch(
            "SELECT * FROM notice_items WHERE status = 'queued' ORDER BY created_at, district,"
            " indicator"
        )
        return [(r["channel"], r["recipient"], _item(r), r["created_at"]) for r in rows]

    async def log_message(
        self,
        message_id: str,
        channel: str,
        recipient: str,
        subject: str,
        payload: bytes,
        items: Sequence[Item],
        silenced: Sequence[Item],
        now: datetime,
    ) -> None:
        """Write the send-log row (status `sending`) and mark its items, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if items:
                await conn.execute(
                    "INSERT INTO send_log (message_id, channel, recipient, subject, payload,"
                    " items, status, created_at, next_attempt_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6::jsonb,'sending',$7,$7)"
                    " ON CONFLICT DO NOTHING",
                    message_id,
                    channel,
                    recipient,
                    subject,
                    payload,
                    json.dumps([i.key for i in items]),
                    now,
                )
            for status, group in (("mailed", items), ("silenced", silenced)):
                await conn.executemany(
                    "UPDATE notice_items SET status = $1, message_id = $2 WHERE channel = $3"
                    " AND recipient = $4 AND district = $5 AND indicator = $6 AND epoch = $7"
                    " AND kind = $8 AND repeat = $9",
                    [
                        (
                            status,
                            message_id if status == "mailed" else None,
                            channel,
                            recipient,
                            i.district,
                            i.indicator,
                            i.epoch,
                            i.kind,
                            i.repeat,
                        )
                        for i in group
                    ],
                )

    async def due_messages(self, now: datetime) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT * FROM send_log WHERE status = 'sending' AND next_attempt_at <= $1"
                " ORDER BY created_at",
                now,
            )
        )

    async def set_status(
        self,
        message_id: str,
        status: str,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        await self.pool.execute(
            "UPDATE send_log SET status = $2, last_error = COALESCE($4, last_error),"
            " attempts = attempts + CASE WHEN $2 IN ('transmitting') THEN 1 ELSE 0 END"
            "   + CASE WHEN $5::timestamptz IS NOT NULL THEN 1 ELSE 0 END,"
            " next_attempt_at = COALESCE($5, next_attempt_at),"
            " sent_at = CASE WHEN $2 IN ('sent', 'unconfirmed') THEN $3 ELSE sent_at END"
            " WHERE message_id = $1",
            message_id,
            status,
            now,
            error,
            retry_at,
        )

    async def recover_in_flight(self, now: datetime) -> int:
        """At start: a row left `transmitting` had its end-of-data written: never resend it."""
        result = await self.pool.execute(
            "UPDATE send_log SET status = 'unconfirmed', sent_at = $1,"
            " last_error = 'process stopped after the end of data was written: not resent'"
            " WHERE status = 'transmitting'",
            now,
        )
        return int(result.split()[-1])

    async def send_log(self, limit: int = 500, offset: int = 0) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT message_id, channel, recipient, subject, items, status, attempts,"
                " last_error, created_at, sent_at FROM send_log"
                " ORDER BY created_at DESC, message_id LIMIT $1 OFFSET $2",
                limit,
                offset,
            )
        )

    # --- silences -----------------------------------------------------------------------

    async def add_silence(self, silence: Silence) -> None:
        await self.pool.execute(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment)"
            " VALUES ($1, $2::jsonb, $3, $4, $5, $6)",
            silence.id,
            json.dumps([asdict(m) for m in silence.matchers]),
            silence.starts_at,
            silence.ends_at,
            silence.created_by,
            silence.comment,
        )

    async def expire_silence(self, silence_id: str, now: datetime) -> bool:
        """End a silence now (if it has not ended yet); False if there is no such silence or
        it was expired by an earlier request: expiring is done once."""
        result = await self.pool.execute(
            "UPDATE silences SET ends_at = LEAST(ends_at, $2), starts_at = LEAST(starts_at, $2),"
            " expired_at = $2 WHERE id = $1 AND expired_at IS NULL",
            silence_id,
            now,
        )
        return bool(result != "UPDATE 0")

    async def silences(self, limit: int | None = None, offset: int = 0) -> list[Silence]:
        rows = await self.pool.fetch(
            "SELECT * FROM silences ORDER BY created_at, id LIMIT $1 OFFSET $2", limit, offset
        )
        return [
            Silence(
                r["id"],
                tuple(Matcher(**m) for m in json.loads(r["matchers"])),
                r["starts_at"],
                r["ends_at"],
                r["created_by"],
                r["comment"],
            )
            for r in rows
        ]


def _item(row: asyncpg.Record) -> Item:
    return Item(
        row["district"],
        row["indicator"],
        row["epoch"],
        row["kind"],
        row["repeat"],
        json.loads(row["snapshot"]),
    )
