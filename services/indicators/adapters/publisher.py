"""The relay's publisher on Kafka (implements `service.ports.ChangePublisher`): each change as a
CloudEvent on ipr.indicators.v1, keyed `{plan}/{district}` (one key's changes stay in order)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.indicator_events import IndicatorChanged, to_kafka


class KafkaChangePublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    async def publish(self, changes: Sequence[IndicatorChanged]) -> None:
        futures = []
        for change in changes:
            key, value, headers = to_kafka(change)
            futures.append(await self.producer.send(self.topic, value, key=key, headers=headers))
        await asyncio.gather(*futures)
