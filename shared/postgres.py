"""PostgreSQL helpers: a connection pool bound to one service's own schema."""

from __future__ import annotations

import re
from collections.abc import Mapping

import asyncpg

from shared.settings import PostgresSettings

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked_schema(name: str) -> str:
    """A schema name safe to splice into DDL (they cannot be bind parameters)."""
    if not _SCHEMA_NAME.match(name):
        raise ValueError(f"invalid schema name {name!r}: lower-case letters, digits and _ only")
    return name


async def is_reachable(pool: asyncpg.Pool) -> bool:
    """For readiness: does the database answer a trivial query? Never raises."""
    try:
        await pool.fetchval("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


async def create_pool(
    settings: PostgresSettings, schema: str, server_settings: Mapping[str, str] | None = None
) -> asyncpg.Pool:
    """A pool whose connections see `schema` first; the schema is created if missing.

    `server_settings` adds session settings (e.g. `statement_timeout` for a read pool)."""
    schema = checked_schema(schema)
    dsn = settings.dsn.get_secret_value()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        server_settings={
            "search_path": schema,
            "application_name": f"iprwatch-{schema}",
            **(server_settings or {}),
        },
    )
    assert pool is not None  # noqa: S101 - create_pool returns None only without a loop
    return pool
