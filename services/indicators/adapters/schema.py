"""The indicators' tables: acts, monthly deltas, consumed offsets, the outbox, plan versions.

The tables know no plan (the fold adds every act's deltas to its month); only the outbox names
the (plan, division, indicator) keys whose values a batch changed, for the relay. `migrate`
creates them, and replaces an outbox of the single-plan versions.
"""

from __future__ import annotations

import asyncpg

TABLES = ("acts", "state_locks", "monthly_deltas", "consumer_offsets", "outbox")
# The order a batch's transaction locks them in (its offsets first): a rebuild's swap too.
LOCK_ORDER = ("consumer_offsets", "acts", "state_locks", "monthly_deltas", "outbox")

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS acts (
    source          text NOT NULL,
    id              text NOT NULL,
    type            text NOT NULL,
    subject         text,
    district        text NOT NULL,
    act_time        timestamptz NOT NULL,
    state_key       text,
    high_value      boolean,
    from_district   text,
    agricultural    boolean NOT NULL DEFAULT false,
    gi              boolean NOT NULL DEFAULT false,
    year            integer,
    amount          numeric,
    PRIMARY KEY (source, id)
);
ALTER TABLE acts ADD COLUMN IF NOT EXISTS indicator text;
ALTER TABLE acts ADD COLUMN IF NOT EXISTS period text;
CREATE UNIQUE INDEX IF NOT EXISTS acts_subject_type ON acts (subject, type)
    WHERE subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS acts_reports ON acts (state_key) WHERE subject IS NULL;
-- a division's latest acts (adapters/totals.py `latest_acts`): a backward scan per division
CREATE INDEX IF NOT EXISTS acts_district_time ON acts (district, act_time);
CREATE TABLE IF NOT EXISTS state_locks (key text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS monthly_deltas (
    district    text NOT NULL,
    indicator   text NOT NULL,
    month       date NOT NULL,
    amount      numeric NOT NULL,
    PRIMARY KEY (district, indicator, month)
);
CREATE TABLE IF NOT EXISTS consumer_offsets (
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS outbox (
    plan            text NOT NULL,
    district        text NOT NULL,
    indicator       text NOT NULL,
    seq             bigint NOT NULL,
    month           date NOT NULL,
    published_seq   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (plan, district, indicator)
);
CREATE TABLE IF NOT EXISTS plan_versions (
    plan            text PRIMARY KEY,
    digest          text NOT NULL
);
"""
# An outbox of the single-plan versions has no `plan` column: it is a queue of notices, derived
# from the deltas, so it is replaced (every plan's keys are then published again at start-up).
OLD_OUTBOX_SQL = """
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.tables
               WHERE table_schema = current_schema() AND table_name = 'outbox')
       AND NOT EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'outbox'
               AND column_name = 'plan') THEN
        DROP TABLE outbox;
        DELETE FROM plan_versions;
    END IF;
END $$;
"""

# Where a batch's acts are COPied before they go into `acts` (temporary: one per connection,
# emptied at every commit; the columns in the order of `Act`'s fields, then the state key).
STAGING_SQL = """
CREATE TEMPORARY TABLE IF NOT EXISTS acts_in (
    source text, id text, type text, subject text, district text, act_time timestamptz,
    high_value boolean, from_district text, agricultural boolean, gi boolean, year integer,
    amount numeric, indicator text, period text, state_key text
) ON COMMIT DELETE ROWS
"""
STAGING_COLUMNS = (
    "source", "id", "type", "subject", "district", "act_time", "high_value", "from_district",
    "agricultural", "gi", "year", "amount", "indicator", "period", "state_key",
)  # fmt: skip


async def migrate(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SCHEMA_SQL)
        await conn.execute(OLD_OUTBOX_SQL)
        await conn.execute(SCHEMA_SQL)
