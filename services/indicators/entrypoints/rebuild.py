"""`iprwatch indicators rebuild`: replay the events topic into shadow tables, then swap them in.

The replay reads every partition from the earliest offset up to the end offsets taken at the
start, with the same handler as the live fold, into the schema `<schema>_rebuild`; the live
service keeps serving (and folding into) the old tables meanwhile. The swap moves the rebuilt
tables into the live schema in one transaction; a running fold then finds its next records
past the stored offsets, seeks back and folds the events that came during the rebuild.
Records that cannot be folded were dead-lettered by the live fold and are not sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.indicators.adapters.store import IndicatorStore, swap_in
from services.indicators.handlers import FoldHandler
from services.indicators.settings import IndicatorsSettings
from shared.kafka import ensure_topics
from shared.postgres import checked_schema, create_pool

Progress = Callable[[int, int], None]  # (records read, records to read)


class _AlreadyDeadLettered:
    async def send(self, record: Any, reason: str, detail: str) -> None:
        """The live fold sent these when it first met them."""


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
    store = IndicatorStore(pool)
    await store.migrate()
    live_pool = await create_pool(settings.postgres, live)
    await IndicatorStore(live_pool).migrate()
    await live_pool.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False,
        isolation_level="read_committed", client_id="iprwatch-indicators-rebuild",
    )  # fmt: skip
    await consumer.start()
    handler = FoldHandler(settings.plan.load(), store, _AlreadyDeadLettered())
    read = 0
    try:
        partitions = [TopicPartition(kafka.events_topic, p) for p in range(kafka.partitions)]
        found = consumer.partitions_for_topic(kafka.events_topic)
        if found:
            partitions = [TopicPartition(kafka.events_topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
        if progress:
            progress(0, total)
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            records = []
            for tp, part in batches.items():
                records += [r for r in part if r.offset < ends[tp]]
            if records:
                await handler.commit(handler.prepare(records))
                read += len(records)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if progress:
                progress(read, total)
        acts = await store.counts()
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


def run_with_progress_bar(settings: IndicatorsSettings) -> Rebuilt:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]rebuilding[/bold] {task.completed:,}/{task.total:,} records"),
        BarColumn(), TimeRemainingColumn(), transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("rebuild", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return asyncio.run(rebuild(settings, advance))
