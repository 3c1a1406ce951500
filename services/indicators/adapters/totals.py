"""The read side on PostgreSQL (implements `service.ports.Totals`): the monthly totals, on the
read pool (its statements time out sooner than the fold's)."""

from __future__ import annotations

import asyncpg

from services.indicators.service.ports import MonthlyRow


class PostgresTotals:
    def __init__(self, reads: asyncpg.Pool) -> None:
        self.reads = reads

    async def monthly_rows(self) -> list[MonthlyRow]:
        rows = await self.reads.fetch(
            "SELECT district, indicator, month, amount FROM monthly_deltas WHERE amount <> 0"
        )
        return [(r["district"], r["indicator"], r["month"], r["amount"]) for r in rows]

    async def counts(self) -> dict[str, int]:
        acts = await self.reads.fetchval("SELECT count(*) FROM acts")
        return {"acts": int(acts)}
