"""The dead-letter topic: records the fold cannot use, with the reason in a header."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer


class KafkaDeadLetters:
    """Publish a copy of the record (key, value, headers) plus `reason`, `detail` and origin."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    async def send(self, record: Any, reason: str, detail: str) -> None:
        headers = [
            *list(record.headers or ()),
            ("reason", reason.encode()),
            ("detail", detail.encode()[:1000]),
            ("origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await self.producer.send_and_wait(self.topic, record.value, key=record.key, headers=headers)
