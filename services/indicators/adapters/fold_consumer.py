"""The fold's Kafka side: consume ipr.events.v1 in batches, seek to the offsets stored with
the totals.

Offsets live only in PostgreSQL (no Kafka commit): on assignment each partition resumes at
the stored offset. While one batch commits, the next is fetched and parsed. What to apply is
the service's (`service.folding`); where to seek after a gap is `domain.batch.GapPolicy`'s.

Several loops (lanes) can share one consumer, each folding its own share of the assigned
partitions (partition mod lanes) in transactions of its own: while one lane's transaction waits
on PostgreSQL, another's Python runs. A partition belongs to one lane, so its batches still
commit one after the other, in offset order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from services.indicators.domain.batch import BatchResult, GapPolicy
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.folding import FoldHandler, Prepared
from services.indicators.service.ports import FoldStore

log = logging.getLogger(__name__)


class SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, resume each partition where the database says the fold stopped."""

    def __init__(self, consumer: AIOKafkaConsumer, store: FoldStore, topic: str) -> None:
        self.consumer = consumer
        self.store = store
        self.topic = topic

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        try:
            await seek_to_stored(self.consumer, self.store, self.topic, assigned)
        except Exception:  # noqa: BLE001 - the batch's own offset check keeps it exact
            # aiokafka only logs a listener's error; the fold loop seeks again when it
            # restarts, and a batch that starts past the stored offset is read again anyway.
            log.warning("could not read the stored offsets on assignment", exc_info=True)
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))


async def seek_to_stored(
    consumer: AIOKafkaConsumer, store: FoldStore, topic: str, tps: Iterable[TopicPartition]
) -> None:
    """Move the fetch position of each partition to the offset stored with the totals."""
    stored = await store.stored_offsets(topic)
    for tp in tps:
        if tp.partition in stored:
            consumer.seek(tp, stored[tp.partition])
        else:
            await consumer.seek_to_beginning(tp)


class FoldLoop:
    """Fetch, parse and commit batches; seek back where a batch started past the stored offset."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handler: FoldHandler,
        metrics: IndicatorsMetrics,
        max_records: int,
        topic: str,
        lane: int = 0,
        lanes: int = 1,
    ) -> None:
        if not 0 <= lane < lanes:
            raise ValueError(f"lane {lane} is not one of {lanes} lanes")
        self.topic = topic
        self.lane = lane
        self.lanes = lanes
        self.consumer = consumer
        self.handler = handler
        self.metrics = metrics
        self.max_records = max_records
        self.gaps = GapPolicy()

    async def run(self, stopping: asyncio.Event) -> None:
        """Fold until `stopping`; raises when PostgreSQL or Kafka fails (the supervisor runs it
        again). A run starts at the stored offsets: a batch fetched but not committed before a
        failure is fetched again, never skipped."""
        committing: asyncio.Task[BatchResult] | None = None
        assigned = self._mine()
        if assigned:
            await seek_to_stored(self.consumer, self.handler.store, self.topic, assigned)
            log.info("fold resumes at the stored offsets of partitions %s",
                     sorted(tp.partition for tp in assigned))  # fmt: skip
        try:
            while not stopping.is_set():
                records = await self._fetch(200 if committing else 500)
                prepared = self.handler.prepare(records) if records else None
                if committing is not None:
                    await self._finish(await committing)
                    committing = None
                    # What arrived while that batch committed joins this one (up to a batch's
                    # size): under a light load a record then waits for one transaction before
                    # its own, not two.
                    room = self.max_records - len(records)
                    if room > 0 and (more := await self._fetch(0, room)):
                        later = self.handler.prepare(more)
                        prepared = later if prepared is None else prepared.joined(later)
                await self._lag()
                if prepared is not None:
                    committing = asyncio.create_task(self._commit(prepared))
        finally:
            if committing is not None:
                # a failure elsewhere: let the transaction under way end (committed or rolled
                # back, the stored offsets say which); on cancellation, cancel it too
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    committing.cancel()
                await asyncio.gather(committing, return_exceptions=True)

    def _mine(self) -> list[TopicPartition]:
        """The assigned partitions this lane folds."""
        return sorted(
            (tp for tp in self.consumer.assignment() if tp.partition % self.lanes == self.lane),
            key=lambda tp: tp.partition,
        )

    async def _fetch(self, timeout_ms: int, max_records: int | None = None) -> list[Any]:
        most = max_records or self.max_records
        if self.lanes == 1:  # all assigned partitions (waits for an assignment if none yet)
            batches = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=most)
        elif mine := self._mine():
            batches = await self.consumer.getmany(*mine, timeout_ms=timeout_ms, max_records=most)
        else:  # none of the assigned partitions is this lane's (yet)
            await asyncio.sleep(timeout_ms / 1000)
            return []
        return [record for part in batches.values() for record in part]

    async def _commit(self, prepared: Prepared) -> BatchResult:
        started = time.perf_counter()
        result, reasons = await self.handler.commit(prepared, frozenset(self.gaps.accepted))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        for reason in reasons:
            self.metrics.dead_letters.labels(reason).inc()
        self.metrics.events_folded.labels("applied").inc(result.applied)
        self.metrics.events_folded.labels("duplicate").inc(result.duplicates)
        self.metrics.events_folded.labels("skipped").inc(result.skipped)
        return result

    async def _finish(self, result: BatchResult) -> None:
        for (topic, partition), stored, accepted in self.gaps.after(result):
            if accepted:
                log.warning("partition %d: offsets below %d are gone; going on", partition, stored)
            tp = TopicPartition(topic, partition)
            if tp in self._mine():  # else its new owner seeks on assignment
                log.info("partition %d starts past the stored offset %d: seeking back",
                         partition, stored)  # fmt: skip
                self.consumer.seek(tp, stored)

    async def _lag(self) -> None:
        for tp in self._mine():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self.consumer.position(tp)
            self.metrics.consumer_lag.labels(str(tp.partition)).set(max(0, highwater - position))
