"""Consuming ipr.indicators.v1: each indicator change the indicators service relays."""

from __future__ import annotations

import asyncio
import json
import logging

from aiokafka import AIOKafkaConsumer

log = logging.getLogger(__name__)


async def consume_forever(consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=1000)
        for records in batches.values():
            for record in records:
                change = json.loads(record.value)
                log.info(
                    "indicator changed",
                    extra={
                        "change": change,
                        "partition": record.partition,
                        "offset": record.offset,
                    },
                )
