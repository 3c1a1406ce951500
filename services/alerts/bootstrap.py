"""The alerts service's composition root."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from services.alerts.entrypoints.consumer import consume_forever
from services.alerts.settings import AlertsSettings
from shared.kafka import ensure_topics, manual_consumer
from shared.plan import Plan, load_plan


@dataclass
class Alerts:
    settings: AlertsSettings
    plan: Plan
    consumer: AIOKafkaConsumer


@asynccontextmanager
async def running(settings: AlertsSettings) -> AsyncIterator[Alerts]:
    plan = load_plan(settings.plan.plan_file)
    kafka = settings.kafka
    await ensure_topics(kafka, [kafka.indicators_topic])
    consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-alerts")
    consumer.subscribe([kafka.indicators_topic])
    await consumer.start()
    stopping = asyncio.Event()
    task = asyncio.create_task(consume_forever(consumer, stopping))
    try:
        yield Alerts(settings, plan, consumer)
    finally:
        stopping.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
