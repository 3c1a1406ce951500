"""The indicators service's composition root: pool, store, consumer, relay and refresher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.indicators.adapters.dead_letters import KafkaDeadLetters
from services.indicators.adapters.store import IndicatorStore
from services.indicators.domain.values import Ledger
from services.indicators.entrypoints.consumer import FoldLoop, SeekToStoredOffsets
from services.indicators.entrypoints.relay import relay_forever
from services.indicators.handlers import FoldHandler
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.kafka import ensure_topics, manual_consumer, reliable_producer
from shared.plan import Plan, load_plan
from shared.postgres import create_pool

log = logging.getLogger(__name__)


@dataclass
class Indicators:
    settings: IndicatorsSettings
    plan: Plan
    pool: asyncpg.Pool
    store: IndicatorStore
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    metrics: IndicatorsMetrics
    ledger: Ledger
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def refresh(self) -> None:
        self.ledger = Ledger(self.plan, await self.store.monthly_rows())
        self.metrics.snapshot.values = self.ledger.current()


async def refresh_snapshot_forever(app: Indicators, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await app.refresh()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), app.settings.snapshot_refresh_seconds)


@asynccontextmanager
async def running(
    settings: IndicatorsSettings, metrics: IndicatorsMetrics
) -> AsyncIterator[Indicators]:
    plan = load_plan(settings.plan.plan_file)
    kafka = settings.kafka
    await ensure_topics(
        kafka, [kafka.events_topic, kafka.indicators_topic, kafka.dead_letter_topic]
    )
    pool = await create_pool(settings.postgres, settings.db_schema)
    store = IndicatorStore(pool)
    await store.migrate()
    consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-indicators")
    producer = reliable_producer(kafka, "iprwatch-indicators-relay")
    consumer.subscribe(
        [kafka.events_topic], listener=SeekToStoredOffsets(consumer, store, kafka.events_topic)
    )
    await consumer.start()
    await producer.start()
    app = Indicators(settings, plan, pool, store, consumer, producer, metrics, Ledger(plan, []))
    await app.refresh()
    stopping = asyncio.Event()
    handler = FoldHandler(plan, store, KafkaDeadLetters(producer, kafka.dead_letter_topic))
    loop = FoldLoop(consumer, handler, metrics, settings.batch_max_records)
    app.tasks = [
        asyncio.create_task(_supervised("fold", loop.run(stopping))),
        asyncio.create_task(
            _supervised(
                "relay",
                relay_forever(
                    store,
                    producer,
                    kafka.indicators_topic,
                    plan,
                    settings.outbox_poll_seconds,
                    stopping,
                ),
            )
        ),
        asyncio.create_task(_supervised("snapshot", refresh_snapshot_forever(app, stopping))),
    ]
    try:
        yield app
    finally:
        stopping.set()
        for task in app.tasks:
            task.cancel()
        await asyncio.gather(*app.tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        await pool.close()


async def _supervised(name: str, work: Coroutine[Any, Any, None]) -> None:
    """Run a background loop; if it dies, log why and stop the process (it must not idle)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s loop failed: stopping the service", name)
        os.kill(os.getpid(), signal.SIGTERM)
