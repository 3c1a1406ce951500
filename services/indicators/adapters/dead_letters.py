"""The dead-letter topic: records the fold cannot use, with the reason in a header."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

log = logging.getLogger(__name__)

# What is kept of a record too large to copy whole (a 1 MB subject in a header, say).
SHORT_HEADER = 1024
SHORT_VALUE = 256 * 1024


class KafkaDeadLetters:
    """Publish a copy of the record (key, value, headers) plus `reason`, `detail` and origin.

    A copy too large for the broker is sent shortened (each header to 1 KiB, the value to
    256 KiB) with the header `truncated: 1`: the fold must go on, and the origin header still
    points at the whole record in the events topic.
    """

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    async def send(self, record: Any, reason: str, detail: str) -> None:
        copied = [(str(name), bytes(raw or b"")) for name, raw in record.headers or ()]
        extra = [
            ("reason", reason.encode("utf-8", "backslashreplace")),
            ("detail", detail.encode("utf-8", "backslashreplace")[:1000]),
            ("origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        try:
            await self.producer.send_and_wait(
                self.topic, record.value, key=record.key, headers=[*copied, *extra]
            )
        except MessageSizeTooLargeError:
            log.warning("dead letter %s/%d@%d too large: sending it shortened", record.topic,
                        record.partition, record.offset)  # fmt: skip
            short = [(name, raw[:SHORT_HEADER]) for name, raw in copied]
            value = None if record.value is None else record.value[:SHORT_VALUE]
            key = None if record.key is None else record.key[:SHORT_HEADER]
            await self.producer.send_and_wait(
                self.topic, value, key=key, headers=[*short, *extra, ("truncated", b"1")]
            )
