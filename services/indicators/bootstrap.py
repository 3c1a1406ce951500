"""The indicators service's composition root: pools, store, consumer, relay and refresher.

Start-up waits for PostgreSQL and Kafka (retrying with backoff, logging each failure) instead
of exiting; afterwards the fold, the relay and the snapshot refresher run under one
`Supervisor`, which restarts whichever fails (a database restart, a broker away) with backoff
and reports it on /readyz until it runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from services.indicators.adapters.dead_letters import KafkaDeadLetters
from services.indicators.adapters.store import IndicatorStore
from services.indicators.domain.values import Ledgers, Progress, plan_pairs
from services.indicators.entrypoints.consumer import FoldLoop, SeekToStoredOffsets
from services.indicators.entrypoints.relay import relay_forever
from services.indicators.handlers import FoldHandler
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.kafka import ensure_topics, manual_consumer, reliable_producer
from shared.plans import PlanSet
from shared.postgres import create_pool
from shared.supervision import Supervisor

log = logging.getLogger(__name__)


@dataclass
class Indicators:
    settings: IndicatorsSettings
    plans: PlanSet
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    store: IndicatorStore
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    metrics: IndicatorsMetrics
    ledgers: Ledgers
    supervisor: Supervisor

    rows: list[tuple[str, str, date, Decimal]] | None = None

    async def refresh(self) -> None:
        rows = await self.store.monthly_rows()
        rows.sort()
        if rows == self.rows:
            return  # nothing changed: the ledger (and the answers cached for it) stay
        # CPU work in a thread: the fold's event loop is never held for long
        ledgers = await asyncio.to_thread(Ledgers, self.plans, rows)
        self.metrics.snapshot.values = await asyncio.to_thread(current_of, ledgers)
        self.ledgers, self.rows = ledgers, rows


def current_of(ledgers: Ledgers) -> dict[tuple[str, str, str], Progress]:
    """Every known (plan, division, indicator) now."""
    return {
        (ledger.plan.id, code, indicator): progress
        for ledger in ledgers
        for (code, indicator), progress in ledger.current().items()
    }


def plan_keys(plans: PlanSet) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Per plan: the digest of its content and its (division, indicator) keys."""
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for plan in plans:
        earlier = plans.predecessor(plan)
        content = plan.model_dump_json() + ("" if earlier is None else earlier.model_dump_json())
        found[plan.id] = (hashlib.sha256(content.encode()).hexdigest(), plan_pairs(plan))
    return found


async def refresh_snapshot_forever(app: Indicators, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await app.refresh()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), app.settings.snapshot_refresh_seconds)


@dataclass
class _Connections:
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    store: IndicatorStore
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer

    async def close(self) -> None:
        await _close(self.consumer, self.producer, self.pool, self.read_pool)


async def _close(*parts: object) -> None:
    for part in parts:
        if part is None:
            continue
        with contextlib.suppress(Exception):
            if isinstance(part, asyncpg.Pool):
                await asyncio.wait_for(part.close(), 10)
            else:
                await part.stop()  # type: ignore[attr-defined]


async def _connect(settings: IndicatorsSettings) -> _Connections:
    """Topics, pools, schema, consumer and producer; what was opened is closed on failure."""
    kafka = settings.kafka
    pool = read_pool = consumer = producer = None
    try:
        await ensure_topics(
            kafka, [kafka.events_topic, kafka.indicators_topic, kafka.dead_letter_topic]
        )
        pool = await create_pool(settings.postgres, settings.db_schema)
        reads = settings.postgres.model_copy(
            update={"pool_min_size": 1, "pool_max_size": settings.read_pool_max_size}
        )
        read_pool = await create_pool(
            reads,
            settings.db_schema,
            {"statement_timeout": str(settings.read_statement_timeout_ms)},
        )
        store = IndicatorStore(pool, read_pool)
        await store.migrate()
        consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-indicators")
        producer = reliable_producer(kafka, "iprwatch-indicators-relay")
        consumer.subscribe(
            [kafka.events_topic], listener=SeekToStoredOffsets(consumer, store, kafka.events_topic)
        )
        await consumer.start()
        await producer.start()
    except BaseException:
        await _close(consumer, producer, pool, read_pool)
        raise
    return _Connections(pool, read_pool, store, consumer, producer)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning(
        "start-up: PostgreSQL or Kafka not reachable yet; retrying in %.1f s",
        wait,
        extra={"attempt": state.attempt_number, "error": f"{type(error).__name__}: {error}"[:300]},
    )


async def connect_patiently(settings: IndicatorsSettings) -> _Connections:
    """`_connect`, again and again with backoff (0.5 s doubling to 30 s) until it succeeds."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Exception),
        wait=wait_exponential_jitter(multiplier=0.5, max=30.0, jitter=0.5),
        before_sleep=_log_retry,
        reraise=True,
    ):
        with attempt:
            return await _connect(settings)
    raise AssertionError("unreachable")


@asynccontextmanager
async def running(
    settings: IndicatorsSettings, metrics: IndicatorsMetrics
) -> AsyncIterator[Indicators]:
    plans = settings.plan.load()
    kafka = settings.kafka
    parts = await connect_patiently(settings)
    supervisor = Supervisor(metrics.registry)
    app = Indicators(
        settings, plans, parts.pool, parts.read_pool, parts.store, parts.consumer,
        parts.producer, metrics, Ledgers(plans, []), supervisor,
    )  # fmt: skip
    changed = await parts.store.publish_changed_plans(plan_keys(plans))
    if changed:
        log.info("plans new or changed since the last start: %s; their values are published",
                 ", ".join(changed))  # fmt: skip
    try:
        await app.refresh()
    except Exception:  # noqa: BLE001 - the snapshot loop tries again
        log.warning("first snapshot failed; the refresher retries", exc_info=True)
    stopping = asyncio.Event()
    handler = FoldHandler(
        plans, parts.store, KafkaDeadLetters(parts.producer, kafka.dead_letter_topic)
    )
    loop = FoldLoop(
        parts.consumer, handler, metrics, settings.batch_max_records, kafka.events_topic
    )
    supervisor.start("fold", lambda: loop.run(stopping), stopping)
    supervisor.start(
        "relay",
        lambda: relay_forever(
            parts.store,
            parts.producer,
            kafka.indicators_topic,
            plans,
            settings.outbox_poll_seconds,
            stopping,
        ),  # fmt: skip
        stopping,
    )
    supervisor.start("snapshot", lambda: refresh_snapshot_forever(app, stopping), stopping)
    try:
        yield app
    finally:
        stopping.set()
        await supervisor.stop(timeout=5)
        await parts.close()
