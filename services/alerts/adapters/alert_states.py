"""The alert states in PostgreSQL, and the end of a plan (final evaluations, outcomes), which
closes a plan's alerts in the same transaction as it records the outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.alerts.adapters.notice_rows import ALERT_FIELDS, json_of, queue, upsert_alert
from services.alerts.domain.lifecycle import AlertState
from services.alerts.service.ports import Closed, HeldOutcome, Notice, StoredAlert
from shared.outcomes import Outcome


class PgAlerts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def alert(self, plan: str, district: str, indicator: str) -> tuple[AlertState, int]:
        row = await self.pool.fetchrow(
            "SELECT * FROM alerts WHERE plan = $1 AND district = $2 AND indicator = $3",
            plan, district, indicator,
        )  # fmt: skip
        if row is None:
            return AlertState(), 0
        return _state(row), int(row["repeats"])

    async def save_alert(
        self, plan: str, district: str, indicator: str, alert: AlertState, repeats: int,
        status: str, snapshot: dict[str, Any], notices: Sequence[Notice], now: datetime,
    ) -> None:  # fmt: skip
        async with self.pool.acquire() as conn, conn.transaction():
            await upsert_alert(conn, plan, district, indicator, alert, repeats, status,
                               snapshot, now)  # fmt: skip
            await queue(conn, notices, now)

    async def alerts(
        self,
        state: str | None,
        district: str | None,
        indicator: str | None,
        limit: int | None = None,
        offset: int = 0,
        plan: str | None = None,
    ) -> list[StoredAlert]:
        query = "SELECT * FROM alerts WHERE true"
        args: list[Any] = []
        if state == "resolved":
            query += " AND state = 'inactive' AND resolved_at IS NOT NULL"
        elif state:
            args.append(state)
            query += f" AND state = ${len(args)}"
        for column, value in (("plan", plan), ("district", district), ("indicator", indicator)):
            if value:
                args.append(value)
                query += f" AND {column} = ${len(args)}"
        args += [limit, offset]
        query += f" ORDER BY plan, district, indicator LIMIT ${len(args) - 1} OFFSET ${len(args)}"
        return [
            StoredAlert(
                r["plan"],
                r["district"],
                r["indicator"],
                _state(r),
                r["status"],
                int(r["repeats"]),
                dict(json_of(r["snapshot"])),
                r["updated_at"],
            )  # fmt: skip
            for r in await self.pool.fetch(query, *args)
        ]


class PgConclusions:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def concluded(self, plan: str) -> bool:
        found = await self.pool.fetchval("SELECT 1 FROM final_evaluations WHERE plan = $1", plan)
        return found is not None

    async def outcomes(self, plan: str) -> dict[tuple[str, str], HeldOutcome]:
        rows = await self.pool.fetch("SELECT * FROM outcomes WHERE plan = $1", plan)
        return {
            (r["district"], r["indicator"]): HeldOutcome(
                r["district"],
                r["indicator"],
                r["outcome"],
                r["value"],
                r["target"],
                r["shortfall"],
                r["period"],
                int(r["revision"]),
            )  # fmt: skip
            for r in rows
        }

    async def conclude(
        self, plan: str, outcomes: Sequence[Outcome], revisions: dict[tuple[str, str], int],
        closed: Sequence[Closed], notices: Sequence[Notice], now: datetime, first: bool,
    ) -> bool:  # fmt: skip
        """Record outcomes (with their revisions), close the plan's open alerts and queue the
        notices, in one transaction; with `first`, only if the plan was not concluded yet
        (False then: another evaluation did it)."""
        async with self.pool.acquire() as conn, conn.transaction():
            if first:
                made = await conn.fetchval(
                    "INSERT INTO final_evaluations (plan, evaluated_at) VALUES ($1, $2)"
                    " ON CONFLICT DO NOTHING RETURNING plan",
                    plan, now,
                )  # fmt: skip
                if made is None:
                    return False
            await conn.executemany(
                "INSERT INTO outcomes (plan, district, indicator, outcome, value, target,"
                " shortfall, period, revision, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                " ON CONFLICT (plan, district, indicator) DO UPDATE SET outcome = $4,"
                " value = $5, target = $6, shortfall = $7, period = $8, revision = $9,"
                " updated_at = $10",
                [(plan, o.division, o.indicator, o.outcome, o.value, o.target, o.shortfall,
                  o.period, revisions[o.key], now) for o in outcomes],
            )  # fmt: skip
            for district, indicator, alert, status, snapshot in closed:
                await upsert_alert(conn, plan, district, indicator, alert, 0, status,
                                   snapshot, now)  # fmt: skip
            await queue(conn, notices, now)
        return True


def _state(row: asyncpg.Record) -> AlertState:
    return AlertState(**{k: row[k] for k in ALERT_FIELDS})
