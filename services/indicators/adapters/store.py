"""The indicators' PostgreSQL state: acts, monthly deltas, consumed offsets and the outbox.

The tables know no plan (the fold adds every act's deltas to its month); only the outbox names
the (plan, division, indicator) keys whose values a batch changed, for the relay.

One batch of records is applied in ONE transaction: the offsets rows of its partitions are
locked first (a record below the stored offset was already applied, by this process before a
crash or by another before a rebalance, and is skipped), then the state keys of its rights
(so that two processes never fold acts of one right at once), then the new acts are recorded
(a repeated (source, id) or natural key is not), their deltas added per (district, indicator,
month), the changed keys bumped in the outbox, and the next offset of each partition stored.
Every statement takes whole arrays (`unnest`), so a batch costs a handful of round trips.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg
from asyncpg.exceptions import (
    DeadlockDetectedError,
    InvalidCachedStatementError,
    SerializationError,
    UndefinedTableError,
)

from services.indicators.domain.acts import Act
from services.indicators.domain.fold import Deltas

log = logging.getLogger(__name__)
_EPOCH = date(1970, 1, 1)  # the month of a key queued by a plan change: every month changed
_RETRYABLE = (
    DeadlockDetectedError,
    SerializationError,
    InvalidCachedStatementError,
    UndefinedTableError,
)
# The database refuses a batch because of what one of its records holds, not because it is
# away: a byte it cannot store (NUL, a lone surrogate: class 22 and asyncpg's own encoding
# error), a value out of range, a text too long for an index (class 54). Such a batch is
# applied again without the record; any other error is retried as it is.
RECORD_FAULTS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DataError,  # class 22: invalid byte sequence, overflow, out of range
    asyncpg.exceptions.ProgramLimitExceededError,  # class 54: index row too large
    asyncpg.exceptions._base.DataError,  # noqa: SLF001 - a value asyncpg cannot encode
    UnicodeError,
)
TABLES = ("acts", "state_locks", "monthly_deltas", "consumer_offsets", "outbox")
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


@dataclass(frozen=True, slots=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicates: int
    skipped: int
    gaps: dict[tuple[str, int], int]  # partition -> stored offset, when the batch starts past it
    dead: tuple[Position, ...] = ()  # records dead-lettered in this transaction


@dataclass(frozen=True)
class Pending:
    """An outbox row waiting for the relay."""

    plan: str
    district: str
    indicator: str
    seq: int
    month: date


# Given the recorded acts of the locked state keys and the new acts: the deltas of the new acts
# and the (plan, division, indicator, month) outbox entries they change.
DeadLetterer = Callable[[list[Position]], Awaitable[None]]
Changed = set[tuple[str, str, str, date]]
Folder = Callable[[dict[str, list[Act]], Sequence[Act]], tuple[Deltas, Changed]]


class IndicatorStore:
    """`pool` folds and relays; `reads` (the read pool, else `pool`) serves the snapshot."""

    def __init__(self, pool: asyncpg.Pool, reads: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        self.reads = reads or pool

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(SCHEMA_SQL)
            await conn.execute(OLD_OUTBOX_SQL)
            await conn.execute(SCHEMA_SQL)

    async def publish_changed_plans(
        self, keys: dict[str, tuple[str, list[tuple[str, str]]]]
    ) -> list[str]:
        """Queue every key of each plan whose digest changed (or that is new) for the relay.

        `keys`: plan id -> (digest of the plan file's content, its (division, indicator) keys).
        A plan file edited (a baseline published, a target set) changes values with no event;
        its keys are published again so that readers of ipr.indicators.v1 see it.
        """
        changed: list[str] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE plan_versions IN EXCLUSIVE MODE")
            stored = {
                r["plan"]: r["digest"] for r in await conn.fetch("SELECT * FROM plan_versions")
            }
            for plan, (digest, pairs) in sorted(keys.items()):
                if stored.get(plan) == digest:
                    continue
                changed.append(plan)
                await self._bump_outbox(conn, {(plan, d, i, _EPOCH) for d, i in pairs})
                await conn.execute(
                    "INSERT INTO plan_versions (plan, digest) VALUES ($1, $2)"
                    " ON CONFLICT (plan) DO UPDATE SET digest = EXCLUDED.digest",
                    plan, digest,
                )  # fmt: skip
        return changed

    async def stored_offsets(self, topic: str) -> dict[int, int]:
        rows = await self.pool.fetch(
            "SELECT partition, next_offset FROM consumer_offsets"
            " WHERE topic = $1 AND next_offset >= 0",
            topic,
        )
        return {row["partition"]: row["next_offset"] for row in rows}

    async def apply(
        self,
        records: Sequence[tuple[Position, Act | None]],
        folder: Folder,
        accept_gaps: frozenset[int] = frozenset(),
        dead_letter: DeadLetterer | None = None,
    ) -> BatchResult:
        """Apply a batch (act None = a dead-lettered record: only its offset moves) exactly once.

        A partition whose records start past its stored offset (the tables were rebuilt, or
        another process stored less than this one read) is left out and reported in `gaps`,
        unless named in `accept_gaps`: the consumer seeks back and reads it again.
        The records without an act that this transaction consumes are handed to `dead_letter`
        (inside the transaction: they are dead-lettered once acknowledged, and only once
        unless a crash comes between). A deadlock or a schema swap under a cached statement
        retries the whole transaction.
        """
        if not records:
            return BatchResult(0, 0, 0, {})
        for attempt in range(5):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    return await self._apply(conn, records, folder, accept_gaps, dead_letter)
            except _RETRYABLE:
                if attempt == 4:
                    raise
                log.warning("batch transaction conflicted; retrying", exc_info=True)
        raise AssertionError("unreachable")

    async def _apply(
        self,
        conn: asyncpg.Connection,
        records: Sequence[tuple[Position, Act | None]],
        folder: Folder,
        accept_gaps: frozenset[int],
        dead_letter: DeadLetterer | None,
    ) -> BatchResult:
        topic = records[0][0].topic
        partitions = sorted({p.partition for p, _ in records})
        rows = await conn.fetch(
            "INSERT INTO consumer_offsets (topic, partition, next_offset)"
            " SELECT $1, p, -1 FROM unnest($2::int[]) AS p"
            " ON CONFLICT (topic, partition)"
            " DO UPDATE SET next_offset = consumer_offsets.next_offset"
            " RETURNING partition, next_offset",
            topic, partitions,
        )  # fmt: skip
        floor = {row["partition"]: row["next_offset"] for row in rows}
        first: dict[int, int] = {}
        for position, _ in records:
            first[position.partition] = min(first.get(position.partition, position.offset),
                                            position.offset)  # fmt: skip
        gaps = {
            (topic, p): floor[p]
            for p in partitions
            if floor[p] >= 0 and first[p] > floor[p] and p not in accept_gaps
        }
        skipped = 0
        next_offsets: dict[int, int] = {}
        fresh: list[Act] = []
        seen: set[tuple[str, str]] = set()
        natural: set[tuple[str, str]] = set()
        duplicates = 0
        dead: list[Position] = []
        for position, act in records:
            if position.offset < floor[position.partition] or (topic, position.partition) in gaps:
                skipped += 1
                continue
            next_offsets[position.partition] = max(
                next_offsets.get(position.partition, 0), position.offset + 1
            )
            if act is None:
                dead.append(position)
                continue
            ident = (act.source, act.id)
            nkey = (act.type, act.subject) if act.subject is not None else None
            if ident in seen or (nkey is not None and nkey in natural):
                duplicates += 1
                continue
            seen.add(ident)
            if nkey is not None:
                natural.add(nkey)
            fresh.append(act)
        inserted = await self._record(conn, fresh) if fresh else []
        duplicates += len(fresh) - len(inserted)
        states = await self._states(conn, inserted) if inserted else {}
        deltas, changed = folder(states, inserted)
        await self._add_deltas(conn, deltas)
        await self._bump_outbox(conn, changed)
        if next_offsets:
            await conn.execute(
                "UPDATE consumer_offsets SET next_offset = n.next"
                " FROM unnest($2::int[], $3::bigint[]) AS n(p, next)"
                " WHERE topic = $1 AND partition = n.p",
                topic, list(next_offsets), list(next_offsets.values()),
            )  # fmt: skip
        if dead and dead_letter is not None:
            await dead_letter(dead)
        return BatchResult(len(inserted), duplicates, skipped, gaps, tuple(dead))

    async def _states(self, conn: asyncpg.Connection, acts: Sequence[Act]) -> dict[str, list[Act]]:
        """Lock the state keys of `acts` (sorted: no deadlock) and read their recorded acts.

        Called after the new acts are inserted: the recorded acts of a key exclude `acts`.
        """
        keys = sorted({key for act in acts if (key := act.state_key) is not None})
        if not keys:
            return {}
        created = await conn.fetch(
            "INSERT INTO state_locks (key) SELECT unnest($1::text[])"
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            keys,
        )
        states: dict[str, list[Act]] = {key: [] for key in keys}
        if len(created) == len(keys):  # a key created now has no act recorded before
            return states
        known_set = set(keys).difference(row["key"] for row in created)
        known = sorted(known_set)
        await conn.execute(  # a join, not `key = ANY(...)`: that one scans the whole table
            "SELECT 1 FROM unnest($1::text[]) AS k(key) JOIN state_locks s USING (key)"
            " ORDER BY key FOR UPDATE OF s",
            known,
        )
        subjects = sorted({a.subject for a in acts if a.subject and a.state_key in known_set})
        rows = await conn.fetch(
            "SELECT a.* FROM unnest($1::text[]) AS s(subject)"
            " JOIN acts a ON a.subject = s.subject AND a.subject IS NOT NULL",
            subjects,
        )
        reports = [key for key in known if key.startswith(("revenue:", "statistic:"))]
        if reports:
            rows += await conn.fetch(
                "SELECT * FROM acts WHERE subject IS NULL AND state_key = ANY($1::text[])", reports
            )
        new = {(act.source, act.id) for act in acts}
        for row in rows:
            if row["state_key"] in known_set and (row["source"], row["id"]) not in new:
                states[row["state_key"]].append(_act_of_row(row))
        return states

    async def _record(self, conn: asyncpg.Connection, acts: list[Act]) -> list[Act]:
        """Insert the acts; return those that were new (not a repeat of a recorded act).

        The acts are COPied (binary) into a temporary table of this connection, then moved in
        one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`: COPY costs less per row than
        `unnest` of thirteen arrays. The rows go in key order, so that two transactions
        inserting the same keys wait for one another instead of deadlocking.
        """
        await conn.execute(STAGING_SQL)
        await conn.copy_records_to_table(
            "acts_in", records=[(*act, act.state_key) for act in acts], columns=STAGING_COLUMNS
        )
        rows = await conn.fetch(
            "INSERT INTO acts (source, id, type, subject, district, act_time, state_key,"
            " high_value, from_district, agricultural, gi, year, amount, indicator, period)"
            " SELECT source, id, type, subject, district, act_time, state_key,"
            " high_value, from_district, agricultural, gi, year, amount, indicator, period"
            " FROM acts_in"
            " ORDER BY type, subject, source, id"
            " ON CONFLICT DO NOTHING RETURNING source, id"
        )
        if len(rows) == len(acts):
            return acts
        kept = {(row["source"], row["id"]) for row in rows}
        return [act for act in acts if (act.source, act.id) in kept]

    async def _add_deltas(self, conn: asyncpg.Connection, deltas: Deltas) -> None:
        items = sorted((key, amount) for key, amount in deltas.items() if amount != 0)
        if not items:
            return
        await conn.execute(
            "INSERT INTO monthly_deltas (district, indicator, month, amount)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::numeric[])"
            " ON CONFLICT (district, indicator, month)"
            " DO UPDATE SET amount = monthly_deltas.amount + EXCLUDED.amount",
            [k[0] for k, _ in items], [k[1] for k, _ in items], [k[2] for k, _ in items],
            [Decimal(a) for _, a in items],
        )  # fmt: skip

    async def _bump_outbox(
        self, conn: asyncpg.Connection, changed: Iterable[tuple[str, str, str, date]]
    ) -> None:
        latest: dict[tuple[str, str, str], date] = {}
        for plan, district, indicator, month in changed:
            key = (plan, district, indicator)
            latest[key] = max(latest.get(key, month), month)
        if not latest:
            return
        keys = sorted(latest)
        await conn.execute(
            "INSERT INTO outbox (plan, district, indicator, seq, month)"
            " SELECT p, d, i, 1, m"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) AS c(p, d, i, m)"
            " ON CONFLICT (plan, district, indicator)"
            " DO UPDATE SET seq = outbox.seq + 1, month = greatest(outbox.month, EXCLUDED.month)",
            [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
            [latest[k] for k in keys],
        )  # fmt: skip

    async def monthly_rows(self) -> list[tuple[str, str, date, Decimal]]:
        """Every (district, indicator, month, summed delta) row."""
        rows = await self.reads.fetch(
            "SELECT district, indicator, month, amount FROM monthly_deltas WHERE amount <> 0"
        )
        return [(r["district"], r["indicator"], r["month"], r["amount"]) for r in rows]

    async def pending(self, limit: int = 1000) -> list[Pending]:
        rows = await self.pool.fetch(
            "SELECT plan, district, indicator, seq, month FROM outbox WHERE seq > published_seq"
            " ORDER BY plan, district, indicator LIMIT $1",
            limit,
        )
        return [
            Pending(r["plan"], r["district"], r["indicator"], r["seq"], r["month"]) for r in rows
        ]

    async def mark_published(self, sent: Sequence[Pending]) -> None:
        await self.pool.execute(
            "UPDATE outbox o SET published_seq = greatest(o.published_seq, s.seq)"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS s(p, d, i, seq)"
            " WHERE o.plan = s.p AND o.district = s.d AND o.indicator = s.i",
            [p.plan for p in sent], [p.district for p in sent], [p.indicator for p in sent],
            [p.seq for p in sent],
        )  # fmt: skip

    async def counts(self) -> dict[str, int]:
        acts = await self.pool.fetchval("SELECT count(*) FROM acts")
        return {"acts": int(acts)}


def _act_of_row(row: asyncpg.Record) -> Act:
    return Act(
        source=row["source"],
        id=row["id"],
        type=row["type"],
        subject=row["subject"],
        district=row["district"],
        time=row["act_time"],
        high_value=row["high_value"],
        from_district=row["from_district"],
        agricultural=row["agricultural"],
        geographical_indication=row["gi"],
        year=row["year"],
        amount=row["amount"],
        indicator=row["indicator"],
        period=row["period"],
    )


async def swap_in(conn: asyncpg.Connection, live: str, shadow: str, retired: str) -> None:
    """Move the shadow tables into the live schema in ONE transaction (the live ones retire).

    The outbox carries its sequence numbers on (a consumer keeps the highest) and every key is
    published again, so that readers of ipr.indicators.v1 see the rebuilt series.
    """
    async with conn.transaction():
        await conn.execute(f"CREATE SCHEMA {retired}")
        # in the order a batch's transaction takes them (its offsets first): no deadlock
        for table in LOCK_ORDER:
            await conn.execute(f"LOCK TABLE {live}.{table} IN ACCESS EXCLUSIVE MODE")
        await conn.execute(
            f"UPDATE {shadow}.outbox n SET seq = n.seq + o.seq FROM {live}.outbox o"  # noqa: S608
            " WHERE n.plan = o.plan AND n.district = o.district AND n.indicator = o.indicator"
        )
        await conn.execute(
            f"INSERT INTO {shadow}.outbox (plan, district, indicator, seq, month)"  # noqa: S608
            f" SELECT plan, district, indicator, seq + 1, month FROM {live}.outbox"
            " ON CONFLICT (plan, district, indicator) DO NOTHING"
        )
        await conn.execute(f"UPDATE {shadow}.outbox SET published_seq = 0")  # noqa: S608
        for table in TABLES:
            await conn.execute(f"ALTER TABLE {live}.{table} SET SCHEMA {retired}")
            await conn.execute(f"ALTER TABLE {shadow}.{table} SET SCHEMA {live}")
