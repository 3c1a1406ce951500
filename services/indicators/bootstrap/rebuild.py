"""Wiring of `iprwatch indicators rebuild`: replay the events topic into shadow tables, then
swap them in.

The replay reads every partition from the earliest offset up to the end offsets taken at the
start, with the same handler as the live fold, into the schema `<schema>_rebuild`; the live
service keeps serving (and folding into) the old tables meanwhile. The swap moves the rebuilt
tables into the live schema in one transaction; a running fold then finds its next records
past the stored offsets, seeks back and folds the events that came during the rebuild.
Records that cannot be folded were dead-lettered by the live fold and are not sent again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer

from services.indicators.adapters.fold_store import PostgresFoldStore
from services.indicators.adapters.history import KafkaHistory
from services.indicators.adapters.schema import migrate
from services.indicators.adapters.shadow import swap_in
from services.indicators.adapters.totals import PostgresTotals
from services.indicators.service.folding import FoldHandler
from services.indicators.service.rebuild import AlreadyDeadLettered, Progress, replay
from services.indicators.settings import IndicatorsSettings
from shared.kafka import ensure_topics
from shared.postgres import checked_schema, create_pool


@dataclass(frozen=True)
class Rebuilt:
    records: int
    acts: int
    seconds: float
    retired_schema: str


async def rebuild(settings: IndicatorsSettings, progress: Progress | None = None) -> Rebuilt:
    started = time.monotonic()
    live = checked_schema(settings.db_schema)
    shadow = checked_schema(f"{live}_rebuild")
    retired = checked_schema(f"{live}_retired_{int(time.time())}")
    dsn = settings.postgres.dsn.get_secret_value()
    kafka = settings.kafka
    await ensure_topics(kafka, [kafka.events_topic])
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {shadow} CASCADE")
    finally:
        await conn.close()
    pool = await create_pool(settings.postgres, shadow)
    await migrate(pool)
    live_pool = await create_pool(settings.postgres, live)
    await migrate(live_pool)
    await live_pool.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False,
        isolation_level="read_committed", client_id="iprwatch-indicators-rebuild",
    )  # fmt: skip
    await consumer.start()
    handler = FoldHandler(settings.plan.load(), PostgresFoldStore(pool), AlreadyDeadLettered())
    try:
        history = KafkaHistory(consumer, kafka)
        await history.open()
        read = await replay(history, handler, progress, settings.fold_lanes)
        acts = await PostgresTotals(pool).counts()
    finally:
        await consumer.stop()
        await pool.close()
    conn = await asyncpg.connect(dsn)
    try:
        await swap_in(conn, live, shadow, retired)
        await conn.execute(f"DROP SCHEMA {shadow} CASCADE")
    finally:
        await conn.close()
    return Rebuilt(read, acts["acts"], time.monotonic() - started, retired)
