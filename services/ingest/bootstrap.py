"""The ingest service's composition root: settings in, a running intake out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from services.ingest.adapters.publisher import KafkaPublisher, ingest_producer
from services.ingest.handlers import EventIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.kafka import ensure_topics
from shared.plan import Plan, load_plan

READY_TIMEOUT_SECONDS = 2.0


@dataclass
class Ingest:
    settings: IngestSettings
    plan: Plan
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
    plan = load_plan(settings.plan.plan_file)
    await ensure_topics(settings.kafka, [settings.kafka.events_topic])
    producer = ingest_producer(settings.kafka, settings.producer_batch_bytes)
    await producer.start()
    try:
        publisher = KafkaPublisher(
            producer, settings.kafka.events_topic, settings.publish_timeout_seconds
        )
        yield Ingest(settings, plan, producer, EventIntake(plan, publisher, metrics), metrics)
    finally:
        await producer.stop()
