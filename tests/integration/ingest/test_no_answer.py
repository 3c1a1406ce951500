"""A request that gets no answer may be published in part; sending it again completes it, and
the duplicates it makes are dropped by (`source`, `id`) downstream (docs/ingest.md, "No answer,
or a 503: send it again")."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from iprwatch.stack.processes import is_alive, stop
from iprwatch.stack.stack import Endpoints, service_marker
from services.ingest.adapters.tokens import TokenStore
from shared.events import EXAMPLES
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import ingest_process, read_topic

pytestmark = pytest.mark.integration
EVENTS = 10_000


async def topic_size(consumer: AIOKafkaConsumer, topic: str) -> int:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in partitions]
    return sum((await consumer.end_offsets(tps)).values()) if tps else 0


async def test_a_request_killed_mid_way_is_completed_by_sending_it_again(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    token = TokenStore(tmp_path / "tokens.json").add("retry", ["*"], ["*"])
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": "application/cloudevents-batch+json"}  # fmt: skip
    base = EXAMPLES["cn.ipr.patent.invention.granted"]
    body = json.dumps([{**base, "id": f"retry-{n}"} for n in range(EVENTS)]).encode()

    topic = kafka_settings.events_topic
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_settings.bootstrap_servers)
    await consumer.start()
    try:
        with ingest_process(infra, kafka_settings, tmp_path) as ingest:
            async with httpx.AsyncClient(base_url=ingest.url, timeout=60) as client:
                sending = asyncio.create_task(
                    client.post("/v1/events", content=body, headers=headers)
                )
                while await topic_size(consumer, topic) == 0:  # publishing began: kill it now
                    assert not sending.done(), "answered before the kill could come"
                stop(ingest.pid, service_marker("ingest"), sig=signal.SIGKILL, timeout=10)
                assert not is_alive(ingest.pid)
                with pytest.raises(httpx.TransportError):
                    await sending  # no answer
        before = await topic_size(consumer, topic)
    finally:
        await consumer.stop()
    assert 0 < before <= EVENTS

    with ingest_process(infra, kafka_settings, tmp_path) as again:  # the service restarted
        async with httpx.AsyncClient(base_url=again.url, timeout=60) as client:
            response = await client.post("/v1/events", content=body, headers=headers)
        assert (response.status_code, response.json()) == (202, {"accepted": EVENTS})

    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    counts = Counter((r.event.source, r.event.id) for r in records)
    assert len(records) == before + EVENTS
    assert len(counts) == EVENTS  # once (source, id) duplicates are dropped: every event, once
    assert set(counts.values()) <= {1, 2}
    print(f"published before the kill: {before} of {EVENTS}")  # noqa: T201
