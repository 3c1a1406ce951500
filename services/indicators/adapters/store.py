"""The indicators' PostgreSQL state: acts, monthly deltas, consumed offsets and the outbox.

One batch of records is applied in ONE transaction: new acts, their deltas, the outbox rows of
the values they changed, and the next offset of each partition. A record below the stored
offset was already applied (by this process before a crash, or by another one before a
rebalance) and is skipped; a repeated act is recorded once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from services.indicators.domain.fold import Delta

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS acts (
    source      text NOT NULL,
    id          text NOT NULL,
    type        text NOT NULL,
    subject     text,
    district    text NOT NULL,
    act_time    timestamptz NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS acts_natural_key
    ON acts (type, subject) WHERE subject IS NOT NULL;
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
    position    bigserial PRIMARY KEY,
    district    text NOT NULL,
    indicator   text NOT NULL,
    key_seq     bigint NOT NULL,
    published   boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (position) WHERE NOT published;
CREATE TABLE IF NOT EXISTS key_sequences (
    district    text NOT NULL,
    indicator   text NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (district, indicator)
);
"""


@dataclass(frozen=True)
class Act:
    source: str
    id: str
    type: str
    subject: str | None
    district: str
    act_time: object  # datetime
    deltas: tuple[Delta, ...]


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicates: int
    skipped: int


class IndicatorStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA_SQL)

    async def stored_offsets(self, topic: str) -> dict[int, int]:
        rows = await self.pool.fetch(
            "SELECT partition, next_offset FROM consumer_offsets WHERE topic = $1", topic
        )
        return {row["partition"]: row["next_offset"] for row in rows}

    async def apply(self, records: Sequence[tuple[Position, Act | None]]) -> BatchResult:
        """Apply a batch (act None = a record that folds to nothing) exactly once."""
        if not records:
            return BatchResult(0, 0, 0)
        applied = duplicates = skipped = 0
        async with self.pool.acquire() as conn, conn.transaction():
            partitions = sorted({(p.topic, p.partition) for p, _ in records})
            floor: dict[tuple[str, int], int] = {}
            for topic, partition in partitions:
                stored = await conn.fetchval(
                    "SELECT next_offset FROM consumer_offsets WHERE topic = $1 AND partition = $2"
                    " FOR UPDATE",
                    topic, partition,
                )  # fmt: skip
                floor[(topic, partition)] = -1 if stored is None else stored
            totals: dict[tuple[str, str, date], float] = defaultdict(float)
            next_offsets: dict[tuple[str, int], int] = {}
            for position, act in records:
                key = (position.topic, position.partition)
                if position.offset < floor[key]:
                    skipped += 1
                    continue
                next_offsets[key] = max(next_offsets.get(key, 0), position.offset + 1)
                if act is None:
                    continue
                inserted = await conn.fetchval(
                    "INSERT INTO acts (source, id, type, subject, district, act_time)"
                    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
                    act.source, act.id, act.type, act.subject, act.district, act.act_time,
                )  # fmt: skip
                if not inserted:
                    duplicates += 1
                    continue
                applied += 1
                for delta in act.deltas:
                    totals[(delta.district, delta.indicator, delta.month)] += delta.amount
            await conn.executemany(
                "INSERT INTO monthly_deltas (district, indicator, month, amount)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (district, indicator, month)"
                " DO UPDATE SET amount = monthly_deltas.amount + EXCLUDED.amount",
                [(d, i, m, a) for (d, i, m), a in totals.items()],
            )
            await self._outbox(conn, {(d, i) for d, i, _ in totals})
            await conn.executemany(
                "INSERT INTO consumer_offsets (topic, partition, next_offset) VALUES ($1, $2, $3)"
                " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
                [(t, p, o) for (t, p), o in next_offsets.items()],
            )
        return BatchResult(applied, duplicates, skipped)

    async def _outbox(self, conn: asyncpg.Connection, changed: Iterable[tuple[str, str]]) -> None:
        for district, indicator in sorted(changed):
            seq = await conn.fetchval(
                "INSERT INTO key_sequences (district, indicator, seq) VALUES ($1, $2, 1)"
                " ON CONFLICT (district, indicator) DO UPDATE SET seq = key_sequences.seq + 1"
                " RETURNING seq",
                district, indicator,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO outbox (district, indicator, key_seq) VALUES ($1, $2, $3)",
                district, indicator, seq,
            )  # fmt: skip

    async def totals(self) -> dict[tuple[str, str], float]:
        """Sum of deltas per (district, indicator), over all months."""
        rows = await self.pool.fetch(
            "SELECT district, indicator, sum(amount) AS total FROM monthly_deltas"
            " GROUP BY district, indicator"
        )
        return {(r["district"], r["indicator"]): float(r["total"]) for r in rows}

    async def unpublished(self, limit: int = 500) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.pool.fetch(
            "SELECT o.position, o.district, o.indicator, o.key_seq,"
            " (SELECT coalesce(sum(amount), 0) FROM monthly_deltas m"
            "   WHERE m.district = o.district AND m.indicator = o.indicator) AS value"
            " FROM outbox o WHERE NOT o.published ORDER BY o.position LIMIT $1",
            limit,
        )
        return rows

    async def mark_published(self, positions: Sequence[int]) -> None:
        await self.pool.execute(
            "UPDATE outbox SET published = true WHERE position = ANY($1::bigint[])", list(positions)
        )
