"""Fixtures for the ingest service's integration tests: the app in-process on the real broker,
reading a topic back, and a Kafka broker of a test's own that it may stop and restart."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from iprwatch.stack import kafka
from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import LOOPBACK, free_port, is_alive, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from services.ingest.adapters.tokens import TokenStore
from services.ingest.entrypoints.http import create_app
from services.ingest.settings import IngestSettings
from shared.events import CloudEvent, from_kafka
from shared.settings import KafkaSettings

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Record:
    partition: int
    key: bytes
    event: CloudEvent


async def read_topic(settings: KafkaSettings, topic: str) -> list[Record]:
    """Every record of `topic`, from the beginning to the end offsets of now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
        isolation_level="read_committed",
    )  # fmt: skip
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Record] = []
        while not await _at_end(consumer, ends):
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batches.items():
                for message in messages:
                    event = from_kafka(message.value, message.headers)
                    records.append(Record(tp.partition, message.key, event))
        return records
    finally:
        await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


@dataclass
class InProcessIngest:
    app: FastAPI
    client: httpx.AsyncClient
    settings: IngestSettings
    auth: dict[str, str]


@asynccontextmanager
async def ingest_running(settings: IngestSettings) -> AsyncIterator[InProcessIngest]:
    """The ingest app with its real lifespan (producer, topic) and a client for it."""
    token = TokenStore(settings.tokens_file).add("integration", ["*"], ["*"])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest",
                                     timeout=60) as client:  # fmt: skip
            yield InProcessIngest(app, client, settings, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def ingest(kafka_settings: KafkaSettings, tmp_path: Path) -> AsyncIterator[InProcessIngest]:
    settings = IngestSettings(kafka=kafka_settings, tokens_file=tmp_path / "tokens.json")
    async with ingest_running(settings) as running:
        yield running


@dataclass
class OwnBroker:
    """A single-node Kafka of one test's own, on the session's jars, stoppable by pid."""

    folder: Path
    libs: Path
    ports: kafka.KafkaPorts
    pid: int = 0

    @property
    def bootstrap(self) -> str:
        return self.ports.bootstrap

    def start(self) -> None:
        properties = kafka.configure(self.folder, self.ports, partitions=3)
        kafka.format_storage(self.folder, self.libs, properties)
        self.pid = kafka.start(self.folder, self.libs, properties, self.ports,
                               self.folder / "kafka.log")  # fmt: skip

    def kill(self) -> None:
        stop(self.pid, kafka.MARKER, sig=signal.SIGKILL, timeout=30)
        assert not is_alive(self.pid)


@pytest.fixture
def own_broker(stack_home: StackHome, infra: Endpoints, tmp_path: Path) -> Iterator[OwnBroker]:
    broker_port = free_port()
    ports = kafka.KafkaPorts(broker_port, free_port(taken={broker_port}))
    broker = OwnBroker(tmp_path / "kafka", stack_home.kafka / "libs", ports)
    broker.start()
    try:
        yield broker
    finally:
        stop(broker.pid, kafka.MARKER, timeout=30)


@dataclass(frozen=True)
class IngestProcess:
    url: str
    pid: int
    tokens_file: Path
    log: Path


@contextmanager
def ingest_process(
    infra: Endpoints, kafka_settings: KafkaSettings, folder: Path, env: Mapping[str, str] = {}
) -> Iterator[IngestProcess]:
    """`iprwatch ingest` as a process of its own on the session's broker, on a free port, with
    its tokens file in `folder` and the extra `IPRWATCH_INGEST_...` settings of `env`."""
    port = free_port()
    tokens = folder / "tokens.json"
    log = folder / "ingest.log"
    full_env = {
        **os.environ,
        **infra.service_env(),
        "IPRWATCH_KAFKA_EVENTS_TOPIC": kafka_settings.events_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka_settings.partitions),
        "IPRWATCH_INGEST_PORT": str(port),
        "IPRWATCH_INGEST_TOKENS_FILE": str(tokens),
        **env,
    }
    pid = launch_service("ingest", full_env, log)
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_ready(url, pid, "ingest", log)
        yield IngestProcess(url, pid, tokens, log)
    finally:
        stop(pid, service_marker("ingest"), timeout=20)
