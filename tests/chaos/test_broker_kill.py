"""Chaos: the broker that leads the events topic's partitions is SIGKILLed under load.

A three-node Kafka cluster of this module's own (replication factor 3, `min.insync.replicas`
2), the session's PostgreSQL, and ingest and indicators as real processes. Registry clients
(`shared.ingest_client`, which sends a batch again after a 503's Retry-After) keep posting new
acts; the fold keeps folding them. The node leading most of the events topic's partitions is
killed with SIGKILL, left dead for a while, then started again. Nobody touches the services.

Then: every event answered 202 is counted exactly once (the fold's totals and its `acts` equal
what was acknowledged), the fold caught up by itself, and ingest answered 503 only between the
kill and the moment every partition had a live leader with two in-sync replicas again (plus at
most one publish timeout, the time a request already waiting on the dead leader takes to be
answered). A JSON line reports how long ingest refused and how long the fold lagged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import free_port, is_alive, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from services.ingest.adapters.tokens import TokenStore
from shared.ingest_client import IngestClient
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings
from tests.chaos.kafka_cluster import (
    BROKERS,
    OwnCluster,
    busiest_leader,
    leaders,
    own_cluster,
    partition_state,
)
from tests.integration.indicators.conftest import (
    end_offsets,
    folded_totals,
    stored_offsets,
    wait_folded,
)
from tests.support.services import service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CODES = ("500101", "500102", "500103", "500104", "500105", "500106", "500107")
KINDS = (
    ("copyright.software.registered", "/registries/copyright",
     "software_copyright_registrations_cumulative"),
    ("pct.application.filed", "/registries/pct", "pct_applications_cumulative"),
)  # fmt: skip
PUBLISH_TIMEOUT = 5.0  # ingest's: a request waits this long for Kafka before its 503
WARM_UP, DEAD_FOR, AFTER_RESTART = 8.0, 10.0, 10.0  # seconds of load around the kill
Key = tuple[str, str, date]


@pytest.fixture(scope="module")
def cluster(
    stack_home: StackHome, infra: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OwnCluster]:
    with own_cluster(tmp_path_factory.mktemp("cluster"), stack_home.kafka / "libs") as running:
        yield running


@dataclass
class Load:
    """Registry clients posting new acts; what was acknowledged and when 503s came."""

    tag: str
    acknowledged: Counter[Key] = field(default_factory=Counter)
    events: int = 0
    refusals: list[float] = field(default_factory=list)  # when a 503 was answered
    other_retries: list[str] = field(default_factory=list)
    next_id: int = 0

    def batch(self, size: int) -> tuple[list[dict[str, Any]], list[Key]]:
        events, keys = [], []
        for _ in range(size):
            n = self.next_id
            self.next_id += 1
            kind, source, indicator = KINDS[n % len(KINDS)]
            district, month = CODES[n % len(CODES)], 1 + (n // len(CODES)) % 12
            events.append({
                "specversion": "1.0", "id": f"{self.tag}-{n}", "source": source,
                "type": f"cn.ipr.{kind}", "subject": f"{self.tag.upper()}{n:09d}",
                "time": f"2023-{month:02d}-15T10:00:00+08:00",
                "datacontenttype": "application/json", "data": {"district": district},
            })  # fmt: skip
            keys.append((district, indicator, date(2023, month, 1)))
        return events, keys

    def on_retry(self, why: str, _: float) -> None:
        if why == "HTTP 503":
            self.refusals.append(time.monotonic())
        else:
            self.other_retries.append(why)

    async def keep_sending(self, url: str, token: str, size: int, until: asyncio.Event) -> None:
        async with IngestClient(url, token, give_up_after=240, on_retry=self.on_retry) as client:
            while not until.is_set():
                events, keys = self.batch(size)
                response = await client.post_events(events)
                assert response.status_code == 202, response.text
                self.acknowledged.update(keys)
                self.events += len(events)
                await asyncio.sleep(0.02)


async def watch_partitions(
    kafka: KafkaSettings, down: set[int], samples: list[tuple[float, bool]], until: asyncio.Event
) -> None:
    """Every 0.25 s: does every partition of the events topic have a live leader and at least
    `min.insync.replicas` in-sync replicas (False also when the metadata cannot be read)?"""
    while not until.is_set():
        try:
            state = await partition_state(kafka, kafka.events_topic, timeout=2.0)
            quorum = bool(state) and all(
                leader >= 0 and leader not in down and len(isr) >= (kafka.min_insync_replicas or 1)
                for leader, isr in state.values()
            )
        except Exception:  # noqa: BLE001 - unreadable metadata: no quorum seen
            quorum = False
        samples.append((time.monotonic(), quorum))
        await asyncio.sleep(0.25)


async def watch_fold(
    kafka: KafkaSettings,
    dsn: str,
    schema: str,
    samples: list[tuple[float, int, int]],
    until: asyncio.Event,
) -> None:
    """Every 0.5 s: (time, records in the topic, records the fold has stored offsets past).
    While a leader is away the topic's end cannot be read: the last one read stands in."""
    end = 0
    while not until.is_set():
        with contextlib.suppress(Exception):
            end = sum((await asyncio.wait_for(end_offsets(kafka), 2.0)).values())
        stored = await stored_offsets(dsn, schema, kafka.events_topic)
        samples.append((time.monotonic(), end, sum(stored.values())))
        await asyncio.sleep(0.5)


def longest_stall(samples: list[tuple[float, int, int]], since: float) -> float:
    """The longest time after `since` during which the fold stood still with work to do."""
    longest, stalled_from, last_done = 0.0, None, -1
    for at, end, done in samples:
        if at < since:
            last_done = done
            continue
        if done == last_done and done < end:
            stalled_from = stalled_from if stalled_from is not None else at
            longest = max(longest, at - stalled_from)
        else:
            stalled_from = None
        last_done = done
    return longest


@pytest.mark.parametrize("round_", [1, 2, 3])
async def test_leader_broker_sigkill_under_load_counts_every_acknowledged_event_once(
    cluster: OwnCluster, infra: Endpoints, db_schema: str, unique: str, tmp_path: Path, round_: int
) -> None:
    kafka = cluster.settings(f"bk{unique}")
    await ensure_topics(kafka, [kafka.events_topic, kafka.indicators_topic])
    endpoints = Endpoints(cluster.bootstrap, infra.postgres_dsn, infra.smtp_port, brokers=BROKERS)
    ports = {"ingest": free_port(), "indicators": free_port()}
    env = service_env(endpoints, kafka, db_schema, ports)
    token = TokenStore(tmp_path / "tokens.json").add("chaos", ["*"], ["*"])
    env |= {"IPRWATCH_INGEST_TOKENS_FILE": str(tmp_path / "tokens.json"),
            "IPRWATCH_INGEST_RETRY_AFTER_SECONDS": "1",
            "IPRWATCH_INGEST_PUBLISH_TIMEOUT_SECONDS": str(PUBLISH_TIMEOUT)}  # fmt: skip
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    pids: dict[str, int] = {}
    load = Load(f"bk{round_}x{unique}")
    stop_load, stop_watching = asyncio.Event(), asyncio.Event()
    down: set[int] = set()
    quorum: list[tuple[float, bool]] = []
    fold: list[tuple[float, int, int]] = []
    try:
        for name in ("ingest", "indicators"):
            log = tmp_path / f"{name}.log"
            pids[name] = launch_service(name, env, log)
            await asyncio.to_thread(wait_ready, urls[name], pids[name], name, log, 120.0)
        watchers = [
            asyncio.create_task(watch_partitions(kafka, down, quorum, stop_watching)),
            asyncio.create_task(
                watch_fold(kafka, infra.postgres_dsn, db_schema, fold, stop_watching)
            ),
        ]
        senders = [
            asyncio.create_task(load.keep_sending(urls["ingest"], token, size, stop_load))
            for size in (1, 10, 100, 500)
        ]
        await asyncio.sleep(WARM_UP)
        led = await leaders(kafka, kafka.events_topic)
        victim = busiest_leader(led)
        killed_at = time.monotonic()
        cluster.kill(victim)
        down.add(victim)
        await asyncio.sleep(DEAD_FOR)
        restarting = time.monotonic()
        await asyncio.to_thread(cluster.start, victim)
        listening = time.monotonic()
        down.discard(victim)
        await asyncio.sleep(AFTER_RESTART)
        stop_load.set()
        await asyncio.wait_for(asyncio.gather(*senders), 300)
        load_ended = time.monotonic()
        await wait_folded(infra.postgres_dsn, db_schema, kafka, timeout=300)
        caught_up = time.monotonic()
        stop_watching.set()
        await asyncio.gather(*watchers)
        assert is_alive(pids["indicators"]) and is_alive(pids["ingest"])

        totals = await folded_totals(infra.postgres_dsn, db_schema)
        conn = await asyncpg.connect(infra.postgres_dsn)
        try:
            acts = await conn.fetchval(f"SELECT count(*) FROM {db_schema}.acts")  # noqa: S608
        finally:
            await conn.close()
        in_topic = sum((await end_offsets(kafka)).values())
    finally:
        stop_load.set()
        stop_watching.set()
        for name, pid in pids.items():
            stop(pid, service_marker(name), timeout=20)

    back = next((at for at, ok in quorum if at > killed_at and ok), float("nan"))
    refusing = (max(load.refusals) - min(load.refusals)) if load.refusals else 0.0
    report = {
        "test": "broker_kill_under_load", "round": round_, "killed_node": victim,
        "partitions_it_led": sorted(p for p, n in led.items() if n == victim),
        "acknowledged": load.events, "counted_acts": acts, "records_in_topic": in_topic,
        "refused_requests": len(load.refusals),
        "ingest_refusing_seconds": round(refusing, 1),
        "first_refusal_after_kill_seconds": round(min(load.refusals) - killed_at, 1)
        if load.refusals else None,
        "last_refusal_after_kill_seconds": round(max(load.refusals) - killed_at, 1)
        if load.refusals else None,
        "no_quorum_seconds": round(back - killed_at, 1),
        "broker_down_seconds": round(listening - killed_at, 1),
        "restart_to_listening_seconds": round(listening - restarting, 1),
        "fold_longest_stall_seconds": round(longest_stall(fold, killed_at), 1),
        "fold_max_lag_records": max((end - done for _, end, done in fold), default=None),
        "fold_caught_up_after_load_seconds": round(caught_up - load_ended, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip
    print(json.dumps(report))  # noqa: T201 - the chaos run's report

    assert load.other_retries == []
    assert load.events > 1000
    assert acts == load.events
    assert totals == {key: Decimal(count) for key, count in load.acknowledged.items()}
    assert all(killed_at <= at <= back + PUBLISH_TIMEOUT + 2.0 for at in load.refusals), report
