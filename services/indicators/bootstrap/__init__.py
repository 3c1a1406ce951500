"""The indicators service's composition root: pools, adapters, the fold, relay and refresher.

Start-up waits for PostgreSQL and Kafka (retrying with backoff, logging each failure) instead
of exiting; afterwards the fold, the relay and the snapshot refresher run under one
`Supervisor`, which restarts whichever fails (a database restart, a broker away) with backoff
and reports it on /readyz until it runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from services.indicators.adapters.alerts_client import HttpCurrentAlerts
from services.indicators.adapters.changes import PostgresChangeSignal
from services.indicators.adapters.dead_letters import KafkaDeadLetters
from services.indicators.adapters.fold_consumer import FoldLoop, SeekToStoredOffsets
from services.indicators.adapters.fold_store import PostgresFoldStore
from services.indicators.adapters.outbox import PostgresOutbox
from services.indicators.adapters.publisher import KafkaChangePublisher
from services.indicators.adapters.schema import migrate
from services.indicators.adapters.totals import PostgresTotals
from services.indicators.domain.values import Ledgers, plan_pairs
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.folding import FoldHandler
from services.indicators.service.relay import relay_forever
from services.indicators.service.snapshot import Snapshot
from services.indicators.settings import IndicatorsSettings
from shared.bulletin.source import Endpoints
from shared.collector import collect_less_often
from shared.kafka import ensure_topics, manual_consumer, reliable_producer
from shared.plans import PlanSet
from shared.postgres import create_pool
from shared.supervision import Supervisor

log = logging.getLogger(__name__)


@dataclass
class Indicators:
    """The running service, as the entrypoints see it."""

    settings: IndicatorsSettings
    plans: PlanSet
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    fold_store: PostgresFoldStore
    outbox: PostgresOutbox
    totals: PostgresTotals
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    metrics: IndicatorsMetrics
    snapshot: Snapshot
    supervisor: Supervisor
    alerts: HttpCurrentAlerts  # a division page's current alerts (IPRWATCH_ALERTS_URL)

    @property
    def ledgers(self) -> Ledgers:
        return self.snapshot.ledgers

    async def refresh(self) -> None:
        await self.snapshot.refresh()


def fold_loop_name(lane: int) -> str:
    """The supervised loop of a fold lane, as /readyz and `ipr_background_loop_up` name it."""
    return "fold" if lane == 0 else f"fold-{lane}"


def plan_keys(plans: PlanSet) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Per plan: the digest of its content and its (division, indicator) keys."""
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for plan in plans:
        earlier = plans.predecessor(plan)
        content = plan.model_dump_json() + ("" if earlier is None else earlier.model_dump_json())
        found[plan.id] = (hashlib.sha256(content.encode()).hexdigest(), plan_pairs(plan))
    return found


def current_alerts(settings: IndicatorsSettings) -> HttpCurrentAlerts:
    """The alerts API's client (unconfigured without IPRWATCH_ALERTS_URL), with the read token
    the monthly bulletin sends: IPRWATCH_READ_TOKEN, else the first of IPRWATCH_READ_TOKENS."""
    token = Endpoints.from_env(alerts=settings.alerts_url).token
    return HttpCurrentAlerts(settings.alerts_url, token, settings.alerts_timeout_seconds)


@dataclass
class _Connections:
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    fold_store: PostgresFoldStore
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
        await migrate(pool)
        fold_store = PostgresFoldStore(pool)
        consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-indicators")
        producer = reliable_producer(kafka, "iprwatch-indicators-relay")
        consumer.subscribe(
            [kafka.events_topic],
            listener=SeekToStoredOffsets(consumer, fold_store, kafka.events_topic),
        )
        await consumer.start()
        await producer.start()
    except BaseException:
        await _close(consumer, producer, pool, read_pool)
        raise
    return _Connections(pool, read_pool, fold_store, consumer, producer)


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
    outbox, totals = PostgresOutbox(parts.pool), PostgresTotals(parts.read_pool)
    app = Indicators(
        settings, plans, parts.pool, parts.read_pool, parts.fold_store, outbox, totals,
        parts.consumer, parts.producer, metrics,
        Snapshot(plans, totals, metrics, settings.snapshot_refresh_seconds), supervisor,
        current_alerts(settings),
    )  # fmt: skip
    changed = await outbox.publish_changed_plans(plan_keys(plans))
    if changed:
        log.info("plans new or changed since the last start: %s; their values are published",
                 ", ".join(changed))  # fmt: skip
    try:
        await app.refresh()
    except Exception:  # noqa: BLE001 - the snapshot loop tries again
        log.warning("first snapshot failed; the refresher retries", exc_info=True)
    collect_less_often()  # a batch of 10,000 records makes some 100,000 short-lived objects
    stopping = asyncio.Event()
    handler = FoldHandler(
        plans, parts.fold_store, KafkaDeadLetters(parts.producer, kafka.dead_letter_topic)
    )
    for lane in range(settings.fold_lanes):
        loop = FoldLoop(
            parts.consumer, handler, metrics, settings.batch_max_records, kafka.events_topic,
            lane, settings.fold_lanes,
        )  # fmt: skip
        supervisor.start(fold_loop_name(lane), functools.partial(loop.run, stopping), stopping)
    publisher = KafkaChangePublisher(parts.producer, kafka.indicators_topic)
    supervisor.start(
        "relay",
        lambda: relay_forever(
            outbox, app.snapshot, publisher, settings.outbox_poll_seconds, stopping
        ),
        stopping,
    )
    changes = PostgresChangeSignal(settings.postgres, settings.db_schema)
    supervisor.start(
        "snapshot",
        lambda: app.snapshot.refresh_forever(
            changes,
            settings.snapshot_refresh_seconds,
            settings.snapshot_min_interval_seconds,
            stopping,
        ),
        stopping,
    )
    try:
        yield app
    finally:
        stopping.set()
        await supervisor.stop(timeout=5)
        await changes.close()
        await app.alerts.close()
        await parts.close()
