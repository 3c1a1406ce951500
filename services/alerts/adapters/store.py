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
from shared.outcomes import Outcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    plan text NOT NULL, district text NOT NULL, indicator text NOT NULL, seq bigint NOT NULL,
    points jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan, district, indicator));
CREATE TABLE IF NOT EXISTS alerts (
    plan text NOT NULL, district text NOT NULL, indicator text NOT NULL, state text NOT NULL,
    severity text NOT NULL, status text NOT NULL, active_since timestamptz,
    firing_since timestamptz, clear_since timestamptz, resolved_at timestamptz,
    epoch int NOT NULL DEFAULT 0, last_notified_at timestamptz, repeats int NOT NULL DEFAULT 0,
    snapshot jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan, district, indicator));
CREATE TABLE IF NOT EXISTS notice_items (
    channel text NOT NULL, recipient text NOT NULL, plan text NOT NULL, district text NOT NULL,
    indicator text NOT NULL, epoch int NOT NULL, kind text NOT NULL, repeat int NOT NULL,
    snapshot jsonb NOT NULL, created_at timestamptz NOT NULL, status text NOT NULL,
    message_id text,
    PRIMARY KEY (channel, recipient, plan, district, indicator, epoch, kind, repeat));
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
CREATE TABLE IF NOT EXISTS final_evaluations (
    plan text PRIMARY KEY, evaluated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    plan text NOT NULL, district text NOT NULL, indicator text NOT NULL, outcome text NOT NULL,
    value double precision, target double precision, shortfall double precision, period text,
    revision int NOT NULL, updated_at timestamptz NOT NULL,
    PRIMARY KEY (plan, district, indicator));
"""

# An installation from before plans were many: its series, alerts and notices were all of one
# plan (the one IPRWATCH_PLAN_FILE named). Each table gets a `plan` column filled with that
# plan's id and the plan in its primary key, in one transaction. A migrated series keeps its
# points but its seq becomes 0, so the first message of the per-plan topic (whatever its seq)
# replaces it.
_PER_PLAN = {
    "series": ("plan, district, indicator", "UPDATE series SET seq = 0"),
    "alerts": ("plan, district, indicator", None),
    "notice_items": ("channel, recipient, plan, district, indicator, epoch, kind, repeat", None),
}

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

    async def migrate(self, legacy_plan: str = "chongqing-14th-fyp") -> list[str]:
        """Create the schema; move the tables of a one-plan installation to per-plan keys
        (their rows become `legacy_plan`'s). The tables moved."""
        moved: list[str] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            for table, (key, after) in _PER_PLAN.items():
                columns = await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = $1",
                    table,
                )
                names = {r["column_name"] for r in columns}
                if not names or "plan" in names:
                    continue
                literal = await conn.fetchval("SELECT quote_literal($1::text)", legacy_plan)
                await conn.execute(
                    f"ALTER TABLE {table} ADD COLUMN plan text NOT NULL DEFAULT {literal};"
                    f" ALTER TABLE {table} ALTER COLUMN plan DROP DEFAULT;"
                    f" ALTER TABLE {table} DROP CONSTRAINT {table}_pkey;"
                    f" ALTER TABLE {table} ADD PRIMARY KEY ({key})"
                )
                if after:
                    await conn.execute(after)
                moved.append(table)
            await conn.execute(SCHEMA)
        return moved

    # --- series -------------------------------------------------------------------------

    async def save_series(
        self, plan: str, district: str, indicator: str, seq: int,
        points: Sequence[tuple[str, float]],
    ) -> bool:  # fmt: skip
        """Store the series if `seq` is newer than the stored one; False for a stale message."""
        return bool(await self.save_many([(plan, district, indicator, seq, points)]))

    async def save_many(
        self, rows: Sequence[tuple[str, str, str, int, Sequence[tuple[str, float]]]]
    ) -> set[tuple[str, str, str]]:
        """Store many (plan, district, indicator, seq, points), each key once, in one
        statement, where `seq` is newer than the stored one; the keys stored."""
        if not rows:
            return set()
        stored = await self.pool.fetch(
            "INSERT INTO series (plan, district, indicator, seq, points)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[])"
            " ON CONFLICT (plan, district, indicator) DO UPDATE"
            " SET seq = EXCLUDED.seq, points = EXCLUDED.points, updated_at = now()"
            " WHERE series.seq < EXCLUDED.seq RETURNING plan, district, indicator",
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
            [r[3] for r in rows], [json.dumps([[m, v] for m, v in r[4]]) for r in rows],
        )  # fmt: skip
        return {(r["plan"], r["district"], r["indicator"]) for r in stored}

    async def points(self, plan: str, district: str, indicator: str) -> list[tuple[str, float]]:
        raw = await self.pool.fetchval(
            "SELECT points FROM series WHERE plan = $1 AND district = $2 AND indicator = $3",
            plan, district, indicator,
        )  # fmt: skip
        return [(m, float(v)) for m, v in json.loads(raw)] if raw else []

    async def all_series(
        self, plan: str | None = None
    ) -> dict[tuple[str, str, str], list[tuple[str, float]]]:
        """Every stored series (of `plan`, if given), by (plan, district, indicator)."""
        rows = await self.pool.fetch(
            "SELECT plan, district, indicator, points FROM series"
            " WHERE $1::text IS NULL OR plan = $1",
            plan,
        )
        return {
            (r["plan"], r["district"], r["indicator"]): [
                (m, float(v)) for m, v in json.loads(r["points"])
            ]
            for r in rows
        }

    # --- alerts -------------------------------------------------------------------------

    async def alert(self, plan: str, district: str, indicator: str) -> tuple[AlertState, int]:
        row = await self.pool.fetchrow(
            "SELECT * FROM alerts WHERE plan = $1 AND district = $2 AND indicator = $3",
            plan, district, indicator,
        )  # fmt: skip
        if row is None:
            return AlertState(), 0
        return AlertState(**{k: row[k] for k in _ALERT_FIELDS}), int(row["repeats"])

    async def save_alert(
        self,
        plan: str,
        district: str,
        indicator: str,
        alert: AlertState,
        repeats: int,
        status: str,
        snapshot: dict[str, Any],
        notices: Sequence[tuple[str, str, Item]],  # (channel, recipient, item)
        now: datetime,
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await _upsert_alert(conn, plan, district, indicator, alert, repeats, status,
                                snapshot, now)  # fmt: skip
            await _queue(conn, notices, now)

    async def alerts(
        self,
        state: str | None,
        district: str | None,
        indicator: str | None,
        limit: int | None = None,
        offset: int = 0,
        plan: str | None = None,
    ) -> list[asyncpg.Record]:
        query = "SELECT * FROM alerts WHERE true"
        args: list[Any] = []
        if state == "resolved":
            query += " AND state = 'inactive' AND resolved_at IS NOT NULL"
        elif state:
            args.append(state)
            query += f" AND state = ${len(args)}"
        for column, value in (("plan", plan), ("district", district), ("indicator", indicator)):
            if value:
                args.append(value)
                query += f" AND {column} = ${len(args)}"
        args += [limit, offset]
        query += f" ORDER BY plan, district, indicator LIMIT ${len(args) - 1} OFFSET ${len(args)}"
        return list(await self.pool.fetch(query, *args))

    async def notified_recipients(
        self, plan: str, district: str, indicator: str, epoch: int
    ) -> list[tuple[str, str]]:
        """(channel, recipient) pairs that were told (not silenced) of this firing."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT channel, recipient FROM notice_items WHERE plan = $1"
            " AND district = $2 AND indicator = $3 AND epoch = $4"
            " AND kind IN ('firing', 'repeat') AND status <> 'silenced'",
            plan, district, indicator, epoch,
        )  # fmt: skip
        return [(r["channel"], r["recipient"]) for r in rows]

    # --- the end of a plan ----------------------------------------------------------------

    async def concluded(self, plan: str) -> bool:
        """Whether the plan's final evaluation has been decided (and its notices queued)."""
        found = await self.pool.fetchval("SELECT 1 FROM final_evaluations WHERE plan = $1", plan)
        return found is not None

    async def outcomes(self, plan: str) -> dict[tuple[str, str], asyncpg.Record]:
        rows = await self.pool.fetch("SELECT * FROM outcomes WHERE plan = $1", plan)
        return {(r["district"], r["indicator"]): r for r in rows}

    async def conclude(
        self,
        plan: str,
        outcomes: Sequence[Outcome],
        revisions: dict[tuple[str, str], int],
        closed: Sequence[tuple[str, str, AlertState, str, dict[str, Any]]],
        notices: Sequence[tuple[str, str, Item]],
        now: datetime,
        first: bool,
    ) -> bool:
        """Record outcomes (with their revisions), close the plan's open alerts and queue the
        notices, in one transaction; with `first`, only if the plan was not concluded yet
        (False then: another evaluation did it)."""
        async with self.pool.acquire() as conn, conn.transaction():
            if first:
                made = await conn.fetchval(
                    "INSERT INTO final_evaluations (plan, evaluated_at) VALUES ($1, $2)"
                    " ON CONFLICT DO NOTHING RETURNING plan",
                    plan, now,
                )  # fmt: skip
                if made is None:
                    return False
            await conn.executemany(
                "INSERT INTO outcomes (plan, district, indicator, outcome, value, target,"
                " shortfall, period, revision, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                " ON CONFLICT (plan, district, indicator) DO UPDATE SET outcome = $4,"
                " value = $5, target = $6, shortfall = $7, period = $8, revision = $9,"
                " updated_at = $10",
                [(plan, o.division, o.indicator, o.outcome, o.value, o.target, o.shortfall,
                  o.period, revisions[o.key], now) for o in outcomes],
            )  # fmt: skip
            for district, indicator, alert, status, snapshot in closed:
                await _upsert_alert(conn, plan, district, indicator, alert, 0, status,
                                    snapshot, now)  # fmt: skip
            await _queue(conn, notices, now)
        return True

    # --- notices and the send log ----------------------------------------------------

    async def queued(self) -> list[tuple[str, str, Item, datetime]]:
        rows = await self.pool.fetch(
            "SELECT * FROM notice_items WHERE status = 'queued' ORDER BY created_at, plan,"
            " district, indicator"
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
                    " AND kind = $8 AND repeat = $9 AND plan = $10",
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
                            i.plan,
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
        row["plan"],
    )


async def _upsert_alert(
    conn: asyncpg.Connection,
    plan: str,
    district: str,
    indicator: str,
    alert: AlertState,
    repeats: int,
    status: str,
    snapshot: dict[str, Any],
    now: datetime,
) -> None:
    values = asdict(alert)
    await conn.execute(
        "INSERT INTO alerts (plan, district, indicator, state, severity, active_since,"
        " firing_since, clear_since, resolved_at, epoch, last_notified_at, repeats,"
        " status, snapshot, updated_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14::jsonb,$15)"
        " ON CONFLICT (plan, district, indicator) DO UPDATE SET state=$4, severity=$5,"
        " active_since=$6, firing_since=$7, clear_since=$8, resolved_at=$9, epoch=$10,"
        " last_notified_at=$11, repeats=$12, status=$13, snapshot=$14::jsonb,"
        " updated_at=$15",
        plan, district, indicator, *(values[k] for k in _ALERT_FIELDS), repeats, status,
        json.dumps(snapshot), now,
    )  # fmt: skip


async def _queue(
    conn: asyncpg.Connection, notices: Sequence[tuple[str, str, Item]], now: datetime
) -> None:
    await conn.executemany(
        "INSERT INTO notice_items (channel, recipient, plan, district, indicator, epoch, kind,"
        " repeat, snapshot, created_at, status)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,'queued') ON CONFLICT DO NOTHING",
        [(c, r, i.plan, i.district, i.indicator, i.epoch, i.kind, i.repeat,
          json.dumps(i.snapshot), now) for c, r, i in notices],
    )  # fmt: skip
