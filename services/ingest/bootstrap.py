"""The ingest service's composition root: settings in, a running intake out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from services.ingest.adapters.publisher import KafkaPublisher, ingest_producer
from services.ingest.handlers import EventIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.kafka import ensure_topics
from shared.plans import PlanSet

READY_TIMEOUT_SECONDS = 2.0
STARTUP_TIMEOUT_SECONDS = 60.0
log = logging.getLogger(__name__)


@dataclass
class Ingest:
    settings: IngestSettings
    plans: PlanSet
    producer: AIOKafkaProducer
    intake: EventIntake
    metrics: IngestMetrics

    async def kafka_reachable(self) -> bool:
        """True if the broker answers a metadata request within a short time."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), READY_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True


@asynccontextmanager
async def running(settings: IngestSettings, metrics: IngestMetrics) -> AsyncIterator[Ingest]:
    plans = settings.plan.load()
    producer = await _connected_producer(settings)
    try:
        publisher = KafkaPublisher(
            producer, settings.kafka.events_topic, settings.publish_timeout_seconds
        )
        yield Ingest(settings, plans, producer, EventIntake(plans, publisher, metrics), metrics)
    finally:
        await producer.stop()


async def _connected_producer(settings: IngestSettings) -> AIOKafkaProducer:
    """Create the topic and start the producer, waiting (a bounded time) for a broker that is
    still starting."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        producer = ingest_producer(settings.kafka, settings.producer_batch_bytes)
        try:
            await ensure_topics(settings.kafka, [settings.kafka.events_topic])
            await producer.start()
        except Exception as exc:
            await producer.stop()
            if time.monotonic() > deadline:
                raise
            log.warning("Kafka is not reachable yet (%r); retrying", exc)
            await asyncio.sleep(2)
            continue
        return producer
