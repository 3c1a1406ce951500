"""Ingest as two worker processes behind one port: both take requests, `/metrics` (whichever
worker answers it) counts exactly the events accepted by all of them, the topic holds exactly
those events, and a worker killed outright is replaced without a counter going back."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from iprwatch.stack.processes import is_alive
from iprwatch.stack.stack import Endpoints
from services.ingest.adapters.tokens import TokenStore
from shared.events import EXAMPLES
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import ingest_process, read_topic

pytestmark = pytest.mark.integration
BATCH = 200
IN_FLIGHT = 6
MAX_ROUNDS = 15


def workers_of(supervisor: int) -> set[int]:
    """The worker processes uvicorn's supervisor runs (not multiprocessing's resource tracker)."""
    found = set()
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.add(pid)
    return found


def metrics_dir(worker: int) -> Path:
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    value = next(e for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR="))
    return Path(value.partition(b"=")[2].decode())


def accepted_by(folder: Path, pid: int, scratch: Path) -> float:
    """Events one worker accepted: its own counter file, read on its own."""
    own = scratch / str(pid)
    own.mkdir(parents=True, exist_ok=True)
    source = folder / f"counter_{pid}.db"
    if not source.exists():
        return 0.0
    shutil.copy(source, own / source.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(own))  # type: ignore[no-untyped-call]
    return registry.get_sample_value("ipr_ingest_events_accepted_total", {"type": _TYPE}) or 0.0


_TYPE = "cn.ipr.patent.invention.granted"


def batch(first: int) -> bytes:
    base = EXAMPLES[_TYPE]
    return json.dumps(
        [{**base, "id": f"w-{n}", "subject": f"ZL-W{n}"} for n in range(first, first + BATCH)]
    ).encode()


async def scrape(url: str) -> dict[str, float]:
    """One `/metrics` answer, on a fresh connection (so either worker may answer it)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        text = (await client.get("/metrics")).text
    values: defaultdict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[sample.name] += sample.value
    return values


async def test_two_workers_share_the_port_and_their_metrics_add_up(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    token = TokenStore(tmp_path / "tokens.json").add("workers", ["*"], ["*"])
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": "application/cloudevents-batch+json"}  # fmt: skip
    sent = 0
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)

    async def post_round(client: httpx.AsyncClient) -> None:
        nonlocal sent
        bodies = [batch(sent + i * BATCH) for i in range(IN_FLIGHT)]
        answers = await asyncio.gather(
            *(client.post("/v1/events", content=b, headers=headers) for b in bodies)
        )
        assert [(a.status_code, a.json()) for a in answers] == [(202, {"accepted": BATCH})] * len(
            bodies
        )
        sent += IN_FLIGHT * BATCH

    env = {"IPRWATCH_INGEST_WORKERS": "2"}
    with ingest_process(infra, kafka_settings, tmp_path, env) as ingest:
        workers = workers_of(ingest.pid)
        assert len(workers) == 2
        folder = metrics_dir(min(workers))
        async with httpx.AsyncClient(base_url=ingest.url, timeout=60, limits=no_keep_alive) as c:
            # new connections, several at once, until each worker has taken some requests
            for _ in range(MAX_ROUNDS):
                await post_round(c)
                per_worker = {p: accepted_by(folder, p, tmp_path / "own") for p in workers}
                if all(per_worker.values()):
                    break
            assert all(per_worker.values()), f"one worker took every request: {per_worker}"
            assert sum(per_worker.values()) == sent

            for _ in range(6):  # whichever worker answers, the same sums
                seen = await scrape(ingest.url)
                assert seen["ipr_ingest_events_accepted_total"] == sent
                assert seen["ipr_ingest_workers"] == 2
                assert seen["ipr_ingest_publish_duration_seconds_count"] == sent // BATCH

            # a worker killed outright: replaced, and its counts stay in the sums
            killed = min(workers)
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                now = workers_of(ingest.pid)
                if len(now) == 2 and killed not in now:
                    seen = await scrape(ingest.url)
                    if seen["ipr_ingest_workers"] == 2:
                        break
                await asyncio.sleep(0.5)
            assert not is_alive(killed)
            assert len(now) == 2 and killed not in now
            assert seen["ipr_ingest_workers"] == 2
            await post_round(c)
            seen = await scrape(ingest.url)
            assert seen["ipr_ingest_events_accepted_total"] == sent

    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    assert len(records) == sent
    assert Counter(r.event.id for r in records) == Counter(f"w-{n}" for n in range(sent))
    print(f"{sent} events over two workers: {per_worker} before the kill")  # noqa: T201
