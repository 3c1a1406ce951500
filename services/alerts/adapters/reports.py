"""The bulletins made, in PostgreSQL: the PDF (bytea) and HTML of each (plan, month), and its
mail in the send log.

`save` keeps the bulletin and writes one `send_log` row per recipient (status `sending`, under
the Message-ID of (plan, month, recipient)) in one transaction, each only if not there yet:
the dispatch loop delivers them like any other logged message. Every replica reads the same
table, so the API lists and serves the same bulletins whichever answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import asyncpg

from services.alerts.domain.bulletin_mail import Report, ReportEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS bulletins (
    plan text NOT NULL, month text NOT NULL, made_at timestamptz NOT NULL, pages int NOT NULL,
    bytes int NOT NULL, sha256 text NOT NULL, pdf bytea NOT NULL, html text NOT NULL,
    message_ids text[] NOT NULL, PRIMARY KEY (plan, month));
CREATE INDEX IF NOT EXISTS bulletins_newest ON bulletins (made_at DESC, month DESC, plan);
"""


class PostgresReports:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            await conn.execute(SCHEMA)

    async def made(self, plan: str, month: str) -> bool:
        found = await self.pool.fetchval(
            "SELECT 1 FROM bulletins WHERE plan = $1 AND month = $2", plan, month
        )
        return found is not None

    async def save(
        self, report: Report, mails: Sequence[tuple[str, str, str, bytes]], now: datetime
    ) -> bool:
        """Keep the bulletin and log its mails, unless it was made already (False)."""
        async with self.pool.acquire() as conn, conn.transaction():
            kept = await conn.fetchval(
                "INSERT INTO bulletins (plan, month, made_at, pages, bytes, sha256, pdf, html,"
                " message_ids) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                " ON CONFLICT DO NOTHING RETURNING plan",
                report.plan, report.month, now, report.pages, len(report.pdf), report.sha256,
                report.pdf, report.html, [m[0] for m in mails],
            )  # fmt: skip
            if kept is None:
                return False
            await conn.executemany(
                "INSERT INTO send_log (message_id, channel, recipient, subject, payload, items,"
                " status, created_at, next_attempt_at)"
                " VALUES ($1, 'email', $2, $3, $4, '[]'::jsonb, 'sending', $5, $5)"
                " ON CONFLICT DO NOTHING",
                [
                    (mid, recipient, subject, payload, now)
                    for mid, recipient, subject, payload in mails
                ],
            )
        return True

    async def entries(self, limit: int, offset: int = 0) -> list[ReportEntry]:
        """Newest first."""
        rows = await self.pool.fetch(
            "SELECT b.plan, b.month, b.made_at, b.pages, b.bytes, b.sha256,"
            " ARRAY(SELECT s.recipient FROM send_log s WHERE s.message_id = ANY(b.message_ids)"
            "       ORDER BY s.recipient) AS recipients,"
            " ARRAY(SELECT s.recipient FROM send_log s WHERE s.message_id = ANY(b.message_ids)"
            "       AND s.status = 'sent' ORDER BY s.recipient) AS sent_to"
            " FROM bulletins b ORDER BY b.made_at DESC, b.month DESC, b.plan LIMIT $1 OFFSET $2",
            limit, offset,
        )  # fmt: skip
        return [
            ReportEntry(
                plan=r["plan"],
                month=r["month"],
                made_at=r["made_at"],
                pages=r["pages"],
                bytes=r["bytes"],
                sha256=r["sha256"],
                recipients=tuple(r["recipients"]),
                sent_to=tuple(r["sent_to"]),
            )  # fmt: skip
            for r in rows
        ]

    async def document(self, plan: str, month: str, kind: Literal["pdf", "html"]) -> bytes | None:
        """The bulletin's PDF, or its HTML (UTF-8); None if it was not made."""
        column = "pdf" if kind == "pdf" else "convert_to(html, 'UTF8')"
        found = await self.pool.fetchval(
            f"SELECT {column} FROM bulletins WHERE plan = $1 AND month = $2",  # noqa: S608
            plan, month,
        )  # fmt: skip
        return None if found is None else bytes(found)
