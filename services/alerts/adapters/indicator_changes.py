"""Consuming ipr.indicators.v1: each message carries a key's whole series and its `seq`.

At least once from Kafka (offsets committed after each batch is stored), exactly once in effect:
a message whose `seq` is not newer than the stored one changes nothing. A record that cannot
be parsed is logged with its position and counted (`outcome="invalid"`), then passed over: it
carries no state that a later message of the same key would not carry whole.

The loop drives the service layer's `ChangeSink` (Alerting) and runs under the service's
supervisor, only while this replica leads (bootstrap). When storing a batch fails (PostgreSQL
away) or its commit fails (Kafka away), the consumer is first rewound to the batch's first
record in each partition and the failure is raised: the supervisor restarts the loop after
its backoff, and the same records are read again. Nothing fetched is ever passed over unstored.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from services.alerts.service.ports import ChangeSink
from shared.indicator_events import IndicatorChanged, from_kafka

log = logging.getLogger(__name__)

Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


async def consume_forever(
    consumer: AIOKafkaConsumer, alerting: ChangeSink, stopping: asyncio.Event
) -> None:
    """Store batch after batch until `stopping` is set; raises (rewound) when one fails."""
    while not stopping.is_set():
        await consume_batch(consumer, alerting)


async def consume_batch(consumer: AIOKafkaConsumer, alerting: ChangeSink) -> int:
    """Fetch, store and commit one batch; the number of records fetched."""
    batches: Batches = await consumer.getmany(timeout_ms=500, max_records=1000)
    if not batches:
        if not alerting.caught_up.is_set() and await at_end(consumer):
            log.info("read the indicators topic to its end: ended plans may be concluded")
            alerting.caught_up.set()
        return 0
    try:
        changes = _decode(batches, alerting)
        if changes:
            await alerting.on_changes(changes)
        await consumer.commit()
    except BaseException:
        rewind(consumer, batches)
        raise
    return sum(len(records) for records in batches.values())


async def at_end(consumer: AIOKafkaConsumer) -> bool:
    """Every assigned partition read to its end offset (and at least one assigned)."""
    assigned = list(consumer.assignment())
    if not assigned:
        return False
    ends = await consumer.end_offsets(assigned)
    for tp in assigned:
        if await consumer.position(tp) < ends[tp]:
            return False
    return True


def rewind(consumer: AIOKafkaConsumer, batches: Batches) -> None:
    """Put each partition back to the first record of the batch, to be read again."""
    for tp, records in batches.items():
        if not records:
            continue
        try:
            consumer.seek(tp, records[0].offset)
        except Exception as exc:  # noqa: BLE001 - no longer assigned: its new owner re-reads
            log.warning("could not rewind a partition", extra={"partition": tp.partition,
                        "offset": records[0].offset, "error": repr(exc)})  # fmt: skip
        else:
            log.info("rewound to re-read a batch that was not stored",
                     extra={"partition": tp.partition, "offset": records[0].offset})  # fmt: skip


def _decode(batches: Batches, alerting: ChangeSink) -> list[IndicatorChanged]:
    changes: list[IndicatorChanged] = []
    for records in batches.values():
        for record in records:
            try:
                changes.append(from_kafka(record.value or b"", record.headers or []))
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
    return changes
