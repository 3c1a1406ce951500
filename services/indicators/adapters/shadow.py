"""A rebuild's tables: a shadow schema to replay into, swapped into the live schema at the end."""

from __future__ import annotations

import asyncpg

from services.indicators.adapters.schema import LOCK_ORDER, TABLES


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
