"""Publishing events to Kafka: binary CloudEvents, key = district, acknowledged by all replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.events import CloudEvent, to_kafka


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str, timeout: float) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout = timeout

    async def publish(self, events: Sequence[CloudEvent]) -> None:
        """Return only once Kafka has acknowledged every event; raise if it did not in time."""
        futures = []
        for event in events:
            key, value, headers = to_kafka(event)
            futures.append(await self.producer.send(self.topic, value, key=key, headers=headers))
        await asyncio.wait_for(asyncio.gather(*futures), timeout=self.timeout)
