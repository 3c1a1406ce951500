"""The ingest service's composition root: settings in, a running intake out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from services.ingest.adapters.publisher import KafkaPublisher
from services.ingest.handlers import EventIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.kafka import ensure_topics, reliable_producer
from shared.plan import Plan, load_plan


@dataclass
class Ingest:
    settings: IngestSettings
    plan: Plan
    producer: AIOKafkaProducer
    intake: EventIntake
    metrics: IngestMetrics


@asynccontextmanager
async def running(settings: IngestSettings, metrics: IngestMetrics) -> AsyncIterator[Ingest]:
    plan = load_plan(settings.plan.plan_file)
    await ensure_topics(settings.kafka, [settings.kafka.events_topic])
    producer = reliable_producer(settings.kafka, client_id="iprwatch-ingest")
    await producer.start()
    try:
        publisher = KafkaPublisher(
            producer, settings.kafka.events_topic, settings.publish_timeout_seconds
        )
        yield Ingest(settings, plan, producer, EventIntake(plan, publisher, metrics), metrics)
    finally:
        await producer.stop()
