"""Fixtures for the indicators' integration tests: producing records, running the fold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from services.indicators.bootstrap import Indicators, running
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.stream import Record

pytestmark = pytest.mark.integration


async def produce(kafka: KafkaSettings, records: Sequence[Record]) -> None:
    await ensure_topics(kafka, [kafka.events_topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, acks="all", enable_idempotence=True,
        linger_ms=20, max_batch_size=256 * 1024,
    )  # fmt: skip
    await producer.start()
    try:
        futures = [
            await producer.send(kafka.events_topic, value, key=key, headers=headers)
            for key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@pytest.fixture
def indicators_settings(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, db_schema: str
) -> IndicatorsSettings:
    return IndicatorsSettings(
        db_schema=db_schema,
        consumer_group=f"{db_schema}-fold",
        snapshot_refresh_seconds=0.2,
        outbox_poll_seconds=0.1,
        kafka=kafka_settings,
        postgres=postgres_settings,
    )


RunFold = Callable[[], AbstractAsyncContextManager[Indicators]]


@pytest.fixture
def run_fold(indicators_settings: IndicatorsSettings) -> RunFold:
    @asynccontextmanager
    async def run() -> AsyncIterator[Indicators]:
        async with running(indicators_settings, IndicatorsMetrics()) as app:
            yield app

    return run


async def end_offsets(kafka: KafkaSettings) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    await consumer.start()
    try:
        tps = [TopicPartition(kafka.events_topic, p) for p in range(kafka.partitions)]
        found = await consumer.end_offsets(tps)
        return {tp.partition: offset for tp, offset in found.items()}
    finally:
        await consumer.stop()


async def wait_folded(dsn: str, schema: str, kafka: KafkaSettings, timeout: float = 60) -> None:
    """Until the stored offsets reach the end of every partition of the events topic."""
    target = {p: o for p, o in (await end_offsets(kafka)).items() if o > 0}
    assert target, "nothing to fold"
    deadline = time.monotonic() + timeout
    while True:
        stored = await stored_offsets(dsn, schema, kafka.events_topic)
        if all(stored.get(p, -1) >= o for p, o in target.items()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"fold stopped at {stored}, the topic ends at {target}")
        await asyncio.sleep(0.2)


async def stored_offsets(dsn: str, schema: str, topic: str) -> dict[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1)", f"{schema}.consumer_offsets")
        if exists is None:
            return {}
        rows = await conn.fetch(
            f"SELECT partition, next_offset FROM {schema}.consumer_offsets WHERE topic = $1",  # noqa: S608
            topic,
        )
        return {r["partition"]: r["next_offset"] for r in rows}
    finally:
        await conn.close()


async def folded_totals(dsn: str, schema: str) -> dict[tuple[str, str, date], Decimal]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f"SELECT district, indicator, month, amount FROM {schema}.monthly_deltas"  # noqa: S608
            " WHERE amount <> 0"
        )
        return {(r["district"], r["indicator"], r["month"]): r["amount"] for r in rows}
    finally:
        await conn.close()
