"""The series repository in PostgreSQL: one row per plan, district and indicator, holding the
whole series (JSON points) and the `seq` of the message that carried it."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from services.alerts.service.ports import Key, Points, SeriesUpdate


class PgSeries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def save_series(
        self, plan: str, district: str, indicator: str, seq: int,
        points: Sequence[tuple[str, float]],
    ) -> bool:  # fmt: skip
        """Store the series if `seq` is newer than the stored one; False for a stale message."""
        return bool(await self.save_many([(plan, district, indicator, seq, points)]))

    async def save_many(self, rows: Sequence[SeriesUpdate]) -> set[Key]:
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

    async def points(self, plan: str, district: str, indicator: str) -> Points:
        raw = await self.pool.fetchval(
            "SELECT points FROM series WHERE plan = $1 AND district = $2 AND indicator = $3",
            plan, district, indicator,
        )  # fmt: skip
        return _points(raw) if raw else []

    async def all_series(self, plan: str | None = None) -> dict[Key, Points]:
        """Every stored series (of `plan`, if given), by (plan, district, indicator)."""
        rows = await self.pool.fetch(
            "SELECT plan, district, indicator, points FROM series"
            " WHERE $1::text IS NULL OR plan = $1",
            plan,
        )
        return {(r["plan"], r["district"], r["indicator"]): _points(r["points"]) for r in rows}


def _points(raw: str) -> Points:
    return [(str(m), float(v)) for m, v in json.loads(raw)]
