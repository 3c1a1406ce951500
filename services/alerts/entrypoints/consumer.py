"""Consuming ipr.indicators.v1: each message carries a key's whole series and its `seq`.

At least once from Kafka (offsets committed after each batch is stored), exactly once in effect:
a message whose `seq` is not newer than the stored one changes nothing. A record that cannot
be parsed is logged with its position and counted (`outcome="invalid"`), then passed over: it
carries no state that a later message of the same key would not carry whole.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from services.alerts.handlers import Alerting
from shared.indicator_events import IndicatorChanged, from_kafka

log = logging.getLogger(__name__)


async def consume_forever(
    consumer: AIOKafkaConsumer, alerting: Alerting, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        try:
            await _consume_batch(consumer, alerting)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("storing indicator changes failed; re-reading from the last commit")
            await consumer.seek_to_committed()
            await asyncio.sleep(1.0)


async def _consume_batch(consumer: AIOKafkaConsumer, alerting: Alerting) -> None:
    batches = await consumer.getmany(timeout_ms=500, max_records=1000)
    changes: list[IndicatorChanged] = []
    for records in batches.values():
        for record in records:
            try:
                changes.append(from_kafka(record.value, record.headers or []))
            except (ValueError, ValidationError) as exc:
                alerting.metrics.changes.labels("invalid").inc()
                log.error(
                    "unreadable indicator change",
                    extra={
                        "partition": record.partition,
                        "offset": record.offset,
                        "error": str(exc),
                    },
                )
    if changes:
        await alerting.on_changes(changes)
    if batches:
        await consumer.commit()
