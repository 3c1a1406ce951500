"""The fold's transaction on PostgreSQL (implements `service.ports.FoldStore`).

One batch is applied in ONE transaction, its steps in the order `service.folding` calls them:
the offsets rows of its partitions are locked first (`claim_offsets`), the acts recorded under
the unique keys (source, id) and (type, subject) (`record`), the state keys of their rights
locked (two processes never fold acts of one right at once) and their earlier acts read
(`states`), the deltas added per (district, indicator, month), the outbox bumped and the next
offsets stored. Every statement takes whole arrays (`unnest`, COPY), so a batch costs a
handful of round trips. Which records to apply is decided in `domain/batch.py`, not here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
from asyncpg.exceptions import (
    DeadlockDetectedError,
    InvalidCachedStatementError,
    SerializationError,
    UndefinedTableError,
)

from services.indicators.adapters.changes import NOTIFY_SQL
from services.indicators.adapters.outbox import bump_outbox
from services.indicators.adapters.schema import STAGING_COLUMNS, STAGING_SQL
from services.indicators.domain.acts import Act
from services.indicators.domain.batch import NO_OFFSET
from services.indicators.domain.fold import Deltas
from services.indicators.service.ports import Changed, RecordFault, TransactionConflict

# Tried again as a whole: a deadlock, a serialization failure, a statement cached for tables
# a rebuild swapped away.
CONFLICTS = (
    DeadlockDetectedError,
    SerializationError,
    InvalidCachedStatementError,
    UndefinedTableError,
)
# The database refuses a batch because of what one of its records holds, not because it is
# away: a byte it cannot store (NUL, a lone surrogate: class 22 and asyncpg's own encoding
# error), a value out of range, a text too long for an index (class 54).
RECORD_FAULTS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DataError,  # class 22: invalid byte sequence, overflow, out of range
    asyncpg.exceptions.ProgramLimitExceededError,  # class 54: index row too large
    asyncpg.exceptions._base.DataError,  # noqa: SLF001 - a value asyncpg cannot encode
    UnicodeError,
)
REPORT_KEYS = ("revenue:", "statistic:")  # state keys of acts without a subject


class PostgresFoldStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresFoldTransaction]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield PostgresFoldTransaction(conn)
        except CONFLICTS as exc:
            raise TransactionConflict(f"{type(exc).__name__}: {exc}") from exc
        except RECORD_FAULTS as exc:
            raise RecordFault(f"{type(exc).__name__}: {exc}") from exc

    async def stored_offsets(self, topic: str) -> dict[int, int]:
        rows = await self.pool.fetch(
            "SELECT partition, next_offset FROM consumer_offsets"
            " WHERE topic = $1 AND next_offset >= 0",
            topic,
        )
        return {row["partition"]: row["next_offset"] for row in rows}


class PostgresFoldTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def claim_offsets(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        rows = await self.conn.fetch(
            "INSERT INTO consumer_offsets (topic, partition, next_offset)"
            " SELECT $1, p, $3 FROM unnest($2::int[]) AS p"
            " ON CONFLICT (topic, partition)"
            " DO UPDATE SET next_offset = consumer_offsets.next_offset"
            " RETURNING partition, next_offset",
            topic, list(partitions), NO_OFFSET,
        )  # fmt: skip
        return {row["partition"]: row["next_offset"] for row in rows}

    async def record(self, acts: Sequence[Act]) -> list[Act]:
        """The acts are COPied (binary) into a temporary table of this connection, then moved
        in one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`: COPY costs less per row than
        `unnest` of thirteen arrays. The rows go in key order, so that two transactions
        inserting the same keys wait for one another instead of deadlocking."""
        if not acts:
            return []
        await self.conn.execute(STAGING_SQL)
        await self.conn.copy_records_to_table(
            "acts_in", records=[(*act, act.state_key) for act in acts], columns=STAGING_COLUMNS
        )
        rows = await self.conn.fetch(
            "INSERT INTO acts (source, id, type, subject, district, act_time, state_key,"
            " high_value, from_district, agricultural, gi, year, amount, indicator, period)"
            " SELECT source, id, type, subject, district, act_time, state_key,"
            " high_value, from_district, agricultural, gi, year, amount, indicator, period"
            " FROM acts_in"
            " ORDER BY type, subject, source, id"
            " ON CONFLICT DO NOTHING RETURNING source, id"
        )
        if len(rows) == len(acts):
            return list(acts)
        kept = {(row["source"], row["id"]) for row in rows}
        return [act for act in acts if (act.source, act.id) in kept]

    async def states(self, acts: Sequence[Act]) -> dict[str, list[Act]]:
        keys = sorted({key for act in acts if (key := act.state_key) is not None})
        if not keys:
            return {}
        created = await self.conn.fetch(
            "INSERT INTO state_locks (key) SELECT unnest($1::text[])"
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            keys,
        )
        states: dict[str, list[Act]] = {key: [] for key in keys}
        if len(created) == len(keys):  # a key created now has no act recorded before
            return states
        known_set = set(keys).difference(row["key"] for row in created)
        known = sorted(known_set)
        await self.conn.execute(  # a join, not `key = ANY(...)`: that one scans the whole table
            "SELECT 1 FROM unnest($1::text[]) AS k(key) JOIN state_locks s USING (key)"
            " ORDER BY key FOR UPDATE OF s",
            known,
        )
        subjects = sorted({a.subject for a in acts if a.subject and a.state_key in known_set})
        rows = await self.conn.fetch(
            "SELECT a.* FROM unnest($1::text[]) AS s(subject)"
            " JOIN acts a ON a.subject = s.subject AND a.subject IS NOT NULL",
            subjects,
        )
        reports = [key for key in known if key.startswith(REPORT_KEYS)]
        if reports:
            rows += await self.conn.fetch(
                "SELECT * FROM acts WHERE subject IS NULL AND state_key = ANY($1::text[])", reports
            )
        new = {(act.source, act.id) for act in acts}
        for row in rows:
            if row["state_key"] in known_set and (row["source"], row["id"]) not in new:
                states[row["state_key"]].append(act_of_row(row))
        return states

    async def add_deltas(self, deltas: Deltas) -> None:
        items = sorted((key, amount) for key, amount in deltas.items() if amount != 0)
        if not items:
            return
        await self.conn.execute(
            "INSERT INTO monthly_deltas (district, indicator, month, amount)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::numeric[])"
            " ON CONFLICT (district, indicator, month)"
            " DO UPDATE SET amount = monthly_deltas.amount + EXCLUDED.amount",
            [k[0] for k, _ in items], [k[1] for k, _ in items], [k[2] for k, _ in items],
            [Decimal(a) for _, a in items],
        )  # fmt: skip
        await self.conn.execute(NOTIFY_SQL)  # delivered at commit: the snapshots refresh

    async def bump_outbox(self, changed: Iterable[Changed]) -> None:
        await bump_outbox(self.conn, changed)

    async def store_offsets(self, topic: str, next_offsets: Mapping[int, int]) -> None:
        await self.conn.execute(
            "UPDATE consumer_offsets SET next_offset = n.next"
            " FROM unnest($2::int[], $3::bigint[]) AS n(p, next)"
            " WHERE topic = $1 AND partition = n.p",
            topic, list(next_offsets), list(next_offsets.values()),
        )  # fmt: skip


def act_of_row(row: asyncpg.Record) -> Act:
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
