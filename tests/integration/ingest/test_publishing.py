"""The ingest app on the real broker: what a 202 promises is in the topic, in binary mode."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.ingest.domain.binding import BATCH
from shared.events import EVENT_TYPES, EXAMPLES, parse_event
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import InProcessIngest, read_topic

pytestmark = pytest.mark.integration


def numbered(n: int, event_type: str) -> dict[str, Any]:
    return {**EXAMPLES[event_type], "id": f"evt-{n}"}


async def test_every_type_lands_in_the_topic_in_kafka_binary_mode(
    ingest: InProcessIngest, kafka_settings: KafkaSettings
) -> None:
    events = [numbered(n, t) for n, t in enumerate(EVENT_TYPES)]
    response = await ingest.client.post("/v1/events", content=json.dumps(events),
                                        headers={**ingest.auth, "Content-Type": BATCH})  # fmt: skip
    assert (response.status_code, response.json()) == (202, {"accepted": len(EVENT_TYPES)})

    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    assert sorted(r.event.id for r in records) == sorted(e["id"] for e in events)
    by_id = {r.event.id: r for r in records}
    for raw in events:
        record = by_id[raw["id"]]
        assert record.key == raw["data"]["district"].encode()
        assert record.event.to_json() == parse_event(raw).to_json()
    # the same key always lands on the same partition
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key, set()).add(record.partition)
    assert all(len(p) == 1 for p in partitions.values())


async def test_the_topic_is_created_with_the_configured_partitions(
    ingest: InProcessIngest, kafka_settings: KafkaSettings
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        [description] = await admin.describe_topics([kafka_settings.events_topic])
    finally:
        await admin.close()
    assert len(description["partitions"]) == kafka_settings.partitions == 3


async def test_a_large_batch_is_published_whole_and_a_bad_one_not_at_all(
    ingest: InProcessIngest, kafka_settings: KafkaSettings
) -> None:
    codes = ["500101", "500112", "500103", "500229", "500105"]
    good = [{**numbered(n, "cn.ipr.trademark.registered"), "subject": f"TM{n}",
             "data": {"district": codes[n % 5]}} for n in range(10_000)]  # fmt: skip
    bad = [numbered(20_000 + n, "cn.ipr.pct.application.filed") for n in range(50)]
    bad[17]["data"] = {"district": "500000"}
    accepted = await ingest.client.post("/v1/events", json=good, headers=ingest.auth)
    refused = await ingest.client.post("/v1/events", json=bad, headers=ingest.auth)
    assert (accepted.status_code, accepted.json()) == (202, {"accepted": 10_000})
    assert refused.status_code == 422
    assert [e["index"] for e in refused.json()["errors"]] == [17]

    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    assert len(records) == 10_000
    assert Counter(r.key for r in records) == {c.encode(): 2000 for c in codes}
    assert {r.event.id for r in records} == {e["id"] for e in good}


async def test_readiness_reports_the_broker(ingest: InProcessIngest) -> None:
    ready = await ingest.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"ready": True, "checks": {"kafka": True}})


async def test_many_concurrent_requests_large_and_small_are_all_acknowledged(
    ingest: InProcessIngest, kafka_settings: KafkaSettings
) -> None:
    """260 requests at once (60 of 1,000 events, 200 of one), each sent as a client should:
    again after `Retry-After` when the service answers 503 (Kafka did not acknowledge in
    time, as may happen on a loaded machine). Every event ends acknowledged and in the topic;
    an id is there twice only if its request was refused once and sent again (a refused
    request may still reach Kafka through the producer's retries: acts count once)."""

    def request(r: int, size: int) -> list[dict[str, Any]]:
        base = EXAMPLES["cn.ipr.gi.product.registered"]
        return [{**base, "id": f"c{r}-{n}", "subject": f"GI-{r}-{n}"} for n in range(size)]

    refused: Counter[int] = Counter()

    async def send(r: int, body: list[dict[str, Any]]) -> int:
        for _ in range(5):
            response = await ingest.client.post("/v1/events", json=body, headers=ingest.auth)
            if response.status_code != 503:
                return response.status_code
            refused[r] += 1
            await asyncio.sleep(float(response.headers["retry-after"]))
        return 503

    bodies = {r: request(r, 1000) for r in range(60)} | {
        100 + r: request(100 + r, 1) for r in range(200)
    }
    statuses = await asyncio.gather(*(send(r, body) for r, body in bodies.items()))
    assert Counter(statuses) == {202: 260}
    assert sum(refused.values()) <= 26, refused  # a few under load, not a pattern
    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    counts = Counter(r.event.id for r in records)
    assert set(counts) == {e["id"] for body in bodies.values() for e in body}
    twice = {i for i, n in counts.items() if n > 1}
    assert all(int(i[1:].split("-")[0]) in refused for i in twice)
    assert all(n <= 1 + refused[int(i[1:].split("-")[0])] for i, n in counts.items())
