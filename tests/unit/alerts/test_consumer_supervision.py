"""The alerts consumer under the shared supervisor: a batch that could not be stored is read
again (the consumer is rewound to it), never passed over."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from services.alerts.adapters.indicator_changes import consume_batch, consume_forever
from services.alerts.metrics import AlertMetrics
from services.alerts.service.alerting import Alerting
from shared.indicator_events import IndicatorChanged, SeriesPoint, to_kafka
from shared.supervision import Backoff, Supervisor

TP = TopicPartition("indicators", 0)


@dataclass
class Record:
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


def record(offset: int, seq: int) -> Record:
    change = IndicatorChanged(
        plan="chongqing-14th-fyp",
        district="500111", indicator="geographical_indications", month="2022-06", value=2.0,
        month_value=2.0, seq=seq, series=(SeriesPoint(month="2022-06", value=2.0),),
    )  # fmt: skip
    _, value, headers = to_kafka(change)
    return Record(0, offset, value, list(headers))


@dataclass
class Partition:
    """What the consumer does with one partition: fetch from a position, seek, commit."""

    records: list[Record]
    at: int = 0
    committed: int = 0
    seeks: list[int] = field(default_factory=list)

    async def getmany(self, **_: Any) -> dict[TopicPartition, list[Record]]:
        batch = self.records[self.at :]
        self.at = len(self.records)
        if not batch:
            await asyncio.sleep(0.01)
        return {TP: batch} if batch else {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        assert tp == TP
        self.seeks.append(offset)
        self.at = offset

    async def commit(self) -> None:
        self.committed = self.at

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.records) for tp in tps}

    async def position(self, tp: TopicPartition) -> int:
        assert tp == TP
        return self.at


class Store:
    """Fails `failures` times (the database away), then stores."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.stored: list[int] = []
        self.metrics = AlertMetrics()
        self.caught_up = asyncio.Event()

    async def on_changes(self, changes: Sequence[IndicatorChanged]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("PostgreSQL is away")
        self.stored += [c.seq for c in changes]


async def test_a_batch_that_cannot_be_stored_is_rewound_and_not_committed() -> None:
    partition, store = Partition([record(0, 1), record(1, 2)]), Store(failures=1)
    consumer, alerting = cast(AIOKafkaConsumer, partition), cast(Alerting, store)
    try:
        await consume_batch(consumer, alerting)
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("the failure must reach the supervisor")
    assert (partition.seeks, partition.at, partition.committed) == ([0], 0, 0)
    assert await consume_batch(consumer, alerting) == 2
    assert (store.stored, partition.committed) == ([1, 2], 2)


async def test_under_the_supervisor_every_change_is_stored_after_the_database_returns() -> None:
    partition, store = Partition([record(n, n + 1) for n in range(5)]), Store(failures=3)
    registry, stopping = CollectorRegistry(), asyncio.Event()
    supervisor = Supervisor(registry, Backoff(initial=0.01, maximum=0.02))
    consumer, alerting = cast(AIOKafkaConsumer, partition), cast(Alerting, store)
    supervisor.start("consumer", lambda: consume_forever(consumer, alerting, stopping), stopping)
    async with asyncio.timeout(5):
        while partition.committed < 5:
            await asyncio.sleep(0.01)
    stopping.set()
    await supervisor.stop(timeout=1)
    assert store.stored == [1, 2, 3, 4, 5]  # each once: the failed tries stored nothing
    assert partition.seeks == [0, 0, 0]
    restarts = registry.get_sample_value("ipr_background_loop_restarts_total", {"loop": "consumer"})
    assert restarts == 3
    assert store.caught_up.is_set()  # read to the end: ended plans may now be concluded


async def test_the_end_of_the_topic_is_noticed_only_at_its_end() -> None:
    partition, store = Partition([record(0, 1), record(1, 2)]), Store(failures=0)
    consumer, alerting = cast(AIOKafkaConsumer, partition), cast(Alerting, store)
    assert await consume_batch(consumer, alerting) == 2
    assert not store.caught_up.is_set()
    assert await consume_batch(consumer, alerting) == 0  # position 2 = end offset 2
    assert store.caught_up.is_set()


async def test_an_empty_fetch_behind_the_end_is_not_the_end() -> None:
    class Lagging(Partition):
        async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
            return {tp: len(self.records) + 1 for tp in tps}  # one more than fetched so far

    partition, store = Lagging([]), Store(failures=0)
    consumer, alerting = cast(AIOKafkaConsumer, partition), cast(Alerting, store)
    assert await consume_batch(consumer, alerting) == 0
    assert not store.caught_up.is_set()
