"""The alerts schema in PostgreSQL (series, alert states, notice items, the send log,
silences, final evaluations, outcomes) and the migration of older installations.

Every repository works on these tables; the schema is created (and older tables moved) once
at start, under an advisory lock, before any repository is used.
"""

from __future__ import annotations

import asyncpg

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


async def migrate(pool: asyncpg.Pool, legacy_plan: str = "chongqing-14th-fyp") -> list[str]:
    """Create the schema; move the tables of a one-plan installation to per-plan keys
    (their rows become `legacy_plan`'s). The tables moved."""
    moved: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
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
