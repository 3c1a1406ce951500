"""Chaos: three indicators processes in one consumer group; one SIGKILLed at random, three times.

The processes share the events topic's six partitions (same group id). While the stream is
still being produced, a random one of them is killed with SIGKILL once the stored offsets pass
a random point of the stream's first, second and third quarter, and a fresh process takes its
place; each kill and
each newcomer rebalances the group. At the end every (district, indicator, month) total equals
the one computed independently from the events and every unique act is recorded once: the
offsets stored with each batch make the fold exactly once whoever holds a partition.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from pathlib import Path

import asyncpg
import pytest

from iprwatch.stack.processes import free_port, is_alive, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from shared.settings import KafkaSettings
from tests.integration.indicators.conftest import (
    folded_totals,
    produce,
    stored_offsets,
    wait_folded,
)
from tests.integration.indicators.stream import generate
from tests.support.services import service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = 3
KILLS = 3
PARTS = 5  # the stream is produced in parts, the first before the workers start


async def _progress(dsn: str, schema: str, topic: str) -> int:
    return sum(max(0, offset) for offset in (await stored_offsets(dsn, schema, topic)).values())


@pytest.mark.parametrize("seed", [41, 42])
async def test_three_workers_one_killed_at_random_three_times_count_exactly_once(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path, seed: int
) -> None:
    kafka = kafka_settings.model_copy(update={"partitions": 6})
    rng = random.Random(seed)
    stream = generate(90_000, seed=seed, poison=3)
    size = len(stream.records) // PARTS + 1
    parts = [stream.records[i : i + size] for i in range(0, len(stream.records), size)]
    dsn = infra.postgres_dsn
    batch = str(rng.choice([500, 2000]))
    workers: dict[int, Path] = {}  # pid -> log
    started = 0

    async def launch(wait: bool = True) -> int:
        nonlocal started
        started += 1
        port = free_port()
        env = service_env(infra, kafka, db_schema, {"indicators": port})
        env["IPRWATCH_INDICATORS_BATCH_MAX_RECORDS"] = batch
        log = tmp_path / f"indicators-{started}.log"
        pid = launch_service("indicators", env, log)
        if wait:
            url = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_ready, url, pid, "indicators", log, 120)
        workers[pid] = log
        return pid

    async def keep_producing() -> None:
        for part in parts[1:]:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            await produce(kafka, part)

    hits: list[int] = []
    began = time.monotonic()
    try:
        await produce(kafka, parts[0])
        for _ in range(WORKERS):
            await launch()
        producing = asyncio.create_task(keep_producing())
        for kill in range(KILLS):  # at a random point of each of the stream's first quarters
            goal = int(len(stream.records) * rng.uniform(kill + 0.2, kill + 0.8) / (KILLS + 1))
            deadline = time.monotonic() + 300
            while await _progress(dsn, db_schema, kafka.events_topic) < goal:
                assert time.monotonic() < deadline, "the fold made no progress"
                await asyncio.sleep(rng.uniform(0.0, 0.05))
            victim = rng.choice(sorted(workers))
            stop(victim, service_marker("indicators"), sig=signal.SIGKILL, timeout=10)
            del workers[victim]
            hits.append(await _progress(dsn, db_schema, kafka.events_topic))
            await launch(wait=False)  # a newcomer joins while the others fold: a rebalance
        await producing
        await wait_folded(dsn, db_schema, kafka, timeout=600)
        folded = time.monotonic()
        assert all(is_alive(pid) for pid in workers), "a worker that was not killed died"
    finally:
        for pid in list(workers):
            stop(pid, service_marker("indicators"), timeout=20)

    conn = await asyncpg.connect(dsn)
    try:
        acts = await conn.fetchval(f"SELECT count(*) FROM {db_schema}.acts")  # noqa: S608
    finally:
        await conn.close()
    assignments = sum(
        (tmp_path / f"indicators-{n}.log").read_text().count("partitions assigned")
        for n in range(1, started + 1)
    )
    print(json.dumps({  # noqa: T201 - the chaos run's report
        "test": "fold_group_sigkill", "seed": seed, "records": len(stream.records),
        "workers": WORKERS, "kills_at_offsets": hits, "assignments": assignments,
        "seconds": round(folded - began, 1), "batch_max_records": int(batch),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }))  # fmt: skip
    assert len(hits) == KILLS
    assert all(0 < hit < len(stream.records) for hit in hits), hits  # each kill mid-fold
    assert assignments >= WORKERS + 2 * KILLS - 1  # each kill and newcomer rebalanced the group
    assert await folded_totals(dsn, db_schema) == stream.totals()
    assert acts == stream.unique_acts
