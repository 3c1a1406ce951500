"""A broker outage: 503 with Retry-After within a bounded time while Kafka is gone, recovery by
itself when it returns, and every event that got a 202 in the topic exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.ingest.settings import IngestSettings
from shared.events import EXAMPLES
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import InProcessIngest, OwnBroker, ingest_running, read_topic

pytestmark = pytest.mark.integration

PUBLISH_TIMEOUT = 3.0
CODES = ["500101", "500102", "500103", "500104", "500105", "500106", "500107"]


def outage_settings(
    own_broker: OwnBroker, topic: str, tmp_path: Path, retry_after: int
) -> tuple[KafkaSettings, IngestSettings]:
    """Ingest on the test's own broker, with short timeouts so the outage answers quickly."""
    kafka = KafkaSettings(
        bootstrap_servers=own_broker.bootstrap,
        events_topic=topic,
        partitions=3,
        request_timeout_ms=5000,
    )
    settings = IngestSettings(
        kafka=kafka,
        tokens_file=tmp_path / "tokens.json",
        publish_timeout_seconds=PUBLISH_TIMEOUT,
        retry_after_seconds=retry_after,
    )
    return kafka, settings


class Sender:
    """Posts numbered batches and remembers which ids got which answer."""

    def __init__(self, ingest: InProcessIngest) -> None:
        self.ingest = ingest
        self.next_id = 0
        self.acknowledged: list[str] = []
        self.refused: list[str] = []
        self.statuses: Counter[int] = Counter()

    def batch(self, size: int) -> list[dict[str, Any]]:
        base = EXAMPLES["cn.ipr.copyright.software.registered"]
        events = []
        for _ in range(size):
            n = self.next_id
            self.next_id += 1
            events.append({**base, "id": f"sw-{n}", "subject": f"2023SR{n:07d}",
                           "data": {"district": CODES[n % len(CODES)]}})  # fmt: skip
        return events

    async def send(self, size: int) -> httpx.Response:
        events = self.batch(size)
        response = await self.ingest.client.post("/v1/events", json=events,
                                                 headers=self.ingest.auth)  # fmt: skip
        self.statuses[response.status_code] += 1
        ids = [e["id"] for e in events]
        if response.status_code == 202:
            assert response.json() == {"accepted": size}
            self.acknowledged.extend(ids)
        else:
            assert response.status_code == 503, response.text
            self.refused.extend(ids)
        return response


async def test_outage_answers_503_then_recovers_and_loses_nothing_acknowledged(
    own_broker: OwnBroker, tmp_path: Path, unique: str
) -> None:
    kafka, settings = outage_settings(own_broker, f"o{unique}", tmp_path, retry_after=2)
    async with ingest_running(settings) as ingest:
        sender = Sender(ingest)
        # before: everything is acknowledged, including concurrent requests
        await asyncio.gather(*(sender.send(200) for _ in range(5)))
        assert sender.statuses == {202: 5}

        own_broker.kill()
        outage: list[float] = []
        for _ in range(3):
            started = time.monotonic()
            response = await sender.send(100)
            outage.append(time.monotonic() - started)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "2"
            assert "Kafka is unavailable" in response.json()["detail"]
        assert max(outage) < PUBLISH_TIMEOUT + 2.0, outage
        assert (await ingest.client.get("/readyz")).status_code == 503

        own_broker.start()  # same folder, same ports
        deadline = time.monotonic() + 90
        while (await sender.send(50)).status_code != 202:
            assert time.monotonic() < deadline, "ingest did not recover within 90 s"
            await asyncio.sleep(1)
        for _ in range(5):
            assert (await sender.send(200)).status_code == 202
        assert (await ingest.client.get("/readyz")).status_code == 200

    records = await read_topic(kafka, kafka.events_topic)
    counts = Counter(r.event.id for r in records)
    assert len(sender.acknowledged) >= 2050
    missing = [i for i in sender.acknowledged if counts[i] == 0]
    doubled = [i for i in sender.acknowledged if counts[i] > 1]
    assert (missing, doubled) == ([], [])
    # what got a 503 may have landed later (the sender retries it), but never twice
    assert all(counts[i] <= 1 for i in sender.refused)
    assert set(counts) <= set(sender.acknowledged) | set(sender.refused)


@pytest.mark.slow
@pytest.mark.parametrize("run", [1, 2, 3])
async def test_an_outage_under_concurrent_load_loses_and_doubles_nothing_acknowledged(
    own_broker: OwnBroker, tmp_path: Path, unique: str, run: int
) -> None:
    """SIGKILL the broker under load of every request size, restart it after 8 s.

    Prints a JSON line: acknowledged and refused events, how long ingest refused (first to
    last 503) and how long after the restart the first request was acknowledged again.
    """
    kafka, settings = outage_settings(own_broker, f"l{unique}", tmp_path, retry_after=1)
    async with ingest_running(settings) as ingest:
        sender = Sender(ingest)
        stop_at = time.monotonic() + 40
        refusals: list[float] = []
        acks: list[float] = []

        async def keep_sending(size: int) -> None:
            while time.monotonic() < stop_at:
                response = await sender.send(size)
                (acks if response.status_code == 202 else refusals).append(time.monotonic())
                if response.status_code == 503:
                    await asyncio.sleep(1)

        load = [asyncio.create_task(keep_sending(size)) for size in (1, 7, 100, 1000)]
        await asyncio.sleep(5)
        killed = time.monotonic()
        own_broker.kill()
        await asyncio.sleep(8)
        own_broker.start()
        restarted = time.monotonic()
        await asyncio.gather(*load)
        assert sender.statuses[503] > 0
        assert len(sender.acknowledged) > 20_000
        assert (await sender.send(10)).status_code == 202  # recovered by itself

    records = await read_topic(kafka, kafka.events_topic)
    counts = Counter(r.event.id for r in records)
    assert [i for i in sender.acknowledged if counts[i] != 1] == []
    assert all(counts[i] <= 1 for i in sender.refused)
    first_ack_after = min((t for t in acks if t > restarted), default=float("nan"))
    print(json.dumps({  # noqa: T201 - the chaos run's report
        "test": "broker_sigkill_under_ingest_load", "run": run,
        "acknowledged": len(sender.acknowledged), "refused": len(sender.refused),
        "in_topic_once": sum(1 for i in sender.acknowledged if counts[i] == 1),
        "refusing_seconds": round(max(refusals) - min(refusals), 1),
        "broker_down_seconds": round(restarted - killed, 1),
        "first_ack_after_restart_seconds": round(first_ack_after - restarted, 1),
    }))  # fmt: skip
