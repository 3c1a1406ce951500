"""The silences in PostgreSQL: expired ones stay listed (with `expired_at`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import asyncpg

from services.alerts.domain.silences import Matcher, Silence


class PgSilences:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

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
