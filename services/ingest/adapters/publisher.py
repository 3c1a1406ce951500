"""Publishing events to Kafka: binary CloudEvents, key = district, acknowledged by all replicas.

A large request's events are grouped by partition into record batches of their own
(`send_batch`): a thousand events cost a few batch submissions, not a thousand `send` calls.
A small request's events go through `send`, into the producer's shared open batches, so that
many concurrent single-event requests share one record batch per partition instead of queueing
one batch each. The partition of a key is the producer's own (murmur2 of the district code, as
Java clients do).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.ingest.service.ports import BrokerUnavailable
from shared.events import CloudEvent, to_kafka
from shared.settings import KafkaSettings


def ingest_producer(settings: KafkaSettings, batch_bytes: int) -> AIOKafkaProducer:
    """The idempotent, `acks=all` producer, with record batches large enough for a request."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="iprwatch-ingest",
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=batch_bytes,
        request_timeout_ms=settings.request_timeout_ms,
        retry_backoff_ms=200,
    )


SMALL_REQUEST = 64  # events; below this a request shares the producer's open batches


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str, timeout: float) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout = timeout
        # One submitter per partition at a time: aiokafka's `add_batch` makes every waiter poll
        # the partition's queue, and under many concurrent requests its time budget runs out
        # though the broker is fine. Queued on a lock, requests take their turn in order.
        self._turns: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def publish(self, events: Sequence[CloudEvent]) -> None:
        """Return only once Kafka has acknowledged every event; raise `BrokerUnavailable` if it
        did not within the timeout (some events may still land later: senders retry, and the
        fold drops duplicates)."""
        deadline = time.monotonic() + self.timeout
        try:
            futures = await asyncio.wait_for(self._enqueue(events), self.timeout)
        except (TimeoutError, KafkaError) as exc:
            raise BrokerUnavailable(f"Kafka did not take the events: {exc!r}") from exc
        if not futures:
            return
        done, pending = await asyncio.wait(futures, timeout=max(deadline - time.monotonic(), 0))
        if pending:
            raise BrokerUnavailable(f"Kafka did not acknowledge within {self.timeout:g}s")
        for future in done:
            if (error := future.exception()) is not None:
                raise BrokerUnavailable(f"Kafka refused the events: {error!r}") from error

    async def _enqueue(self, events: Sequence[CloudEvent]) -> list[asyncio.Future[Any]]:
        if len(events) < SMALL_REQUEST:
            sent = []
            for event in events:
                key, value, headers = to_kafka(event)
                sent.append(await self.producer.send(self.topic, value, key=key, headers=headers))
            return sent
        await self.producer.client._wait_on_metadata(self.topic)
        by_partition: dict[int, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = defaultdict(
            list
        )
        partition_of: dict[bytes, int] = {}
        for event in events:
            key, value, headers = to_kafka(event)
            partition = partition_of.get(key)
            if partition is None:
                partition = self.producer._partition(self.topic, None, key, value, key, value)
                partition_of[key] = partition
            by_partition[partition].append((key, value, headers))
        futures: list[asyncio.Future[Any]] = []
        for partition, records in by_partition.items():
            batch = self.producer.create_batch()
            for key, value, headers in records:
                if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                    futures.append(await self._send(batch, partition))
                    batch = self.producer.create_batch()
                    batch.append(timestamp=None, key=key, value=value, headers=headers)
            futures.append(await self._send(batch, partition))
        return futures

    async def _send(self, batch: Any, partition: int) -> asyncio.Future[Any]:
        async with self._turns[partition]:
            future: asyncio.Future[Any] = await self.producer.send_batch(
                batch, self.topic, partition=partition
            )
        return future
