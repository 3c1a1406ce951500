"""The fold loop: consume ipr.events.v1 in batches, seek to the offsets stored with the totals.

Offsets live only in PostgreSQL (no Kafka commit): on assignment each partition resumes at
the stored offset. While one batch commits, the next is fetched and parsed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from services.indicators.adapters.store import BatchResult, IndicatorStore
from services.indicators.handlers import FoldHandler, Prepared
from services.indicators.metrics import IndicatorsMetrics

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


class FoldLoop:
    """Fetch, parse and commit batches; seek back where a batch started past the stored offset."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handler: FoldHandler,
        metrics: IndicatorsMetrics,
        max_records: int,
    ) -> None:
        self.consumer = consumer
        self.handler = handler
        self.metrics = metrics
        self.max_records = max_records
        self.repeated_gaps: Counter[tuple[str, int, int]] = Counter()
        self.accept_gaps: set[int] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        committing: asyncio.Task[BatchResult] | None = None
        try:
            while not stopping.is_set():
                batches = await self.consumer.getmany(
                    timeout_ms=200 if committing else 500, max_records=self.max_records
                )
                records = [record for part in batches.values() for record in part]
                prepared = self.handler.prepare(records) if records else None
                if committing is not None:
                    await self._finish(await committing)
                    committing = None
                await self._lag()
                if prepared is not None:
                    committing = asyncio.create_task(self._commit(prepared))
        finally:
            if committing is not None:
                committing.cancel()

    async def _commit(self, prepared: Prepared) -> BatchResult:
        started = time.perf_counter()
        result, reasons = await self.handler.commit(prepared, frozenset(self.accept_gaps))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        for reason in reasons:
            self.metrics.dead_letters.labels(reason).inc()
        self.metrics.events_folded.labels("applied").inc(result.applied)
        self.metrics.events_folded.labels("duplicate").inc(result.duplicates)
        self.metrics.events_folded.labels("skipped").inc(result.skipped)
        return result

    async def _finish(self, result: BatchResult) -> None:
        if not result.gaps:
            self.repeated_gaps.clear()
            self.accept_gaps.clear()
        for (topic, partition), stored in result.gaps.items():
            key = (topic, partition, stored)
            self.repeated_gaps[key] += 1
            if self.repeated_gaps[key] >= 5:
                log.warning("partition %d: offsets below %d are gone; going on", partition, stored)
                self.accept_gaps.add(partition)
            tp = TopicPartition(topic, partition)
            if tp in self.consumer.assignment():  # else its new owner seeks on assignment
                log.info("partition %d starts past the stored offset %d: seeking back",
                         partition, stored)  # fmt: skip
                self.consumer.seek(tp, stored)

    async def _lag(self) -> None:
        for tp in self.consumer.assignment():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self.consumer.position(tp)
            self.metrics.consumer_lag.labels(str(tp.partition)).set(max(0, highwater - position))
