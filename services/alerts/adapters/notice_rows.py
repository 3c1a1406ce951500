"""The two writes that more than one repository makes inside its own transaction: an alert's
row (an evaluation, or the end of a plan closing it) and queued notice items."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import Item
from services.alerts.service.ports import Notice

ALERT_FIELDS = (
    "state",
    "severity",
    "active_since",
    "firing_since",
    "clear_since",
    "resolved_at",
    "epoch",
    "last_notified_at",
)


def json_of(raw: Any) -> Any:
    """A jsonb value as asyncpg hands it over (text)."""
    return json.loads(raw) if isinstance(raw, str | bytes) else raw


def item_of(row: asyncpg.Record) -> Item:
    return Item(
        row["district"],
        row["indicator"],
        row["epoch"],
        row["kind"],
        row["repeat"],
        dict(json_of(row["snapshot"])),
        row["plan"],
    )


async def upsert_alert(
    conn: asyncpg.Connection,
    plan: str,
    district: str,
    indicator: str,
    alert: AlertState,
    repeats: int,
    status: str,
    snapshot: dict[str, Any],
    now: datetime,
) -> None:
    values = asdict(alert)
    await conn.execute(
        "INSERT INTO alerts (plan, district, indicator, state, severity, active_since,"
        " firing_since, clear_since, resolved_at, epoch, last_notified_at, repeats,"
        " status, snapshot, updated_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14::jsonb,$15)"
        " ON CONFLICT (plan, district, indicator) DO UPDATE SET state=$4, severity=$5,"
        " active_since=$6, firing_since=$7, clear_since=$8, resolved_at=$9, epoch=$10,"
        " last_notified_at=$11, repeats=$12, status=$13, snapshot=$14::jsonb,"
        " updated_at=$15",
        plan, district, indicator, *(values[k] for k in ALERT_FIELDS), repeats, status,
        json.dumps(snapshot), now,
    )  # fmt: skip


async def queue(conn: asyncpg.Connection, notices: Sequence[Notice], now: datetime) -> None:
    await conn.executemany(
        "INSERT INTO notice_items (channel, recipient, plan, district, indicator, epoch, kind,"
        " repeat, snapshot, created_at, status)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,'queued') ON CONFLICT DO NOTHING",
        [(c, r, i.plan, i.district, i.indicator, i.epoch, i.kind, i.repeat,
          json.dumps(i.snapshot), now) for c, r, i in notices],
    )  # fmt: skip
