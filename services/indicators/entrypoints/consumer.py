"""The fold loop: consume ipr.events.v1 in batches, seek to the offsets stored with the totals."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from services.indicators.adapters.store import IndicatorStore
from services.indicators.handlers import FoldHandler

log = logging.getLogger(__name__)


class SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, resume each partition where the database says the fold stopped."""

    def __init__(self, consumer: AIOKafkaConsumer, store: IndicatorStore, topic: str) -> None:
        self.consumer = consumer
        self.store = store
        self.topic = topic

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        stored = await self.store.stored_offsets(self.topic)
        for tp in assigned:
            if tp.partition in stored:
                self.consumer.seek(tp, stored[tp.partition])
            else:
                await self.consumer.seek_to_beginning(tp)
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))


async def fold_forever(
    consumer: AIOKafkaConsumer, handler: FoldHandler, max_records: int, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=max_records)
        records = [record for partition in batches.values() for record in partition]
        if records:
            result = await handler.handle(records)
            log.debug("folded %d records: %s", len(records), result)
