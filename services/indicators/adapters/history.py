"""The events topic as a finite history (implements `service.ports.History`): every partition
from its earliest offset up to the end offsets taken when it opens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.settings import KafkaSettings


class KafkaHistory:
    def __init__(self, consumer: AIOKafkaConsumer, kafka: KafkaSettings) -> None:
        self.consumer = consumer
        self.topic = kafka.events_topic
        self.partitions = [TopicPartition(self.topic, p) for p in range(kafka.partitions)]
        self.ends: dict[TopicPartition, int] = {}
        self.starts: dict[TopicPartition, int] = {}

    async def open(self) -> None:
        found = self.consumer.partitions_for_topic(self.topic)
        if found:
            self.partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        self.consumer.assign(self.partitions)
        await self.consumer.seek_to_beginning(*self.partitions)
        self.ends = await self.consumer.end_offsets(self.partitions)
        self.starts = await self.consumer.beginning_offsets(self.partitions)

    async def size(self) -> int:
        return sum(self.ends[tp] - self.starts[tp] for tp in self.partitions)

    async def batches(self, lane: int = 0, lanes: int = 1) -> AsyncIterator[Sequence[Any]]:
        remaining = {
            tp
            for tp in self.partitions
            if self.ends[tp] > self.starts[tp] and tp.partition % lanes == lane
        }
        while remaining:
            fetched = await self.consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            records = []
            for tp, part in fetched.items():
                records += [r for r in part if r.offset < self.ends[tp]]
            yield records
            for tp in list(remaining):
                if await self.consumer.position(tp) >= self.ends[tp]:
                    remaining.discard(tp)
