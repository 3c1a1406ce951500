"""The outbox on PostgreSQL (implements `service.ports.Outbox`): one row per (plan, division,
indicator) whose `seq` grows with every change; the relay publishes the rows past their
`published_seq`. Bumped inside the fold's transaction, so that a change and its notice commit
together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import asyncpg

from services.indicators.service.ports import Changed, Pending, PlanKeys

_EPOCH = date(1970, 1, 1)  # the month of a key queued by a plan change: every month changed


async def bump_outbox(conn: asyncpg.Connection, changed: Iterable[Changed]) -> None:
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


class PostgresOutbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

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

    async def publish_changed_plans(self, keys: PlanKeys) -> list[str]:
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
                await bump_outbox(conn, {(plan, d, i, _EPOCH) for d, i in pairs})
                await conn.execute(
                    "INSERT INTO plan_versions (plan, digest) VALUES ($1, $2)"
                    " ON CONFLICT (plan) DO UPDATE SET digest = EXCLUDED.digest",
                    plan, digest,
                )  # fmt: skip
        return changed
