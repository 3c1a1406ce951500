"""Crash test: the indicators service killed with SIGKILL at random points while it folds.

A shuffled stream (duplicates, lapses before grants, corrections, poison records) is produced,
then a real `iprwatch indicators` process is started and killed with SIGKILL once the stored
offsets pass a random share of the stream, again and again; a last process folds the rest.
At the end every (district, indicator, month) total equals the one computed independently
from the events, exactly, and every unique act is recorded once.

The short version runs in `make test`; the long ones (200,000 events, 10 streams) in
`make chaos`.
"""

from __future__ import annotations

import asyncio
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
    end_offsets,
    folded_totals,
    produce,
    stored_offsets,
    wait_folded,
)
from tests.integration.indicators.stream import generate
from tests.support.services import service_env

pytestmark = pytest.mark.integration


async def _progress(dsn: str, schema: str, topic: str) -> int:
    return sum(max(0, offset) for offset in (await stored_offsets(dsn, schema, topic)).values())


async def crash_and_check(
    infra: Endpoints,
    kafka: KafkaSettings,
    db_schema: str,
    logs: Path,
    events: int,
    kills: int,
    seed: int,
) -> list[int]:
    """Fold `events` with `kills` SIGKILLs at random progress points; return where they hit."""
    stream = generate(events, seed=seed, poison=5)
    await produce(kafka, stream.records)
    total = sum((await end_offsets(kafka)).values())
    dsn = infra.postgres_dsn
    rng = random.Random(seed)
    env = service_env(infra, kafka, db_schema, {"indicators": free_port()})
    env["IPRWATCH_INDICATORS_BATCH_MAX_RECORDS"] = str(rng.choice([500, 2000, 5000]))
    url = f"http://127.0.0.1:{env['IPRWATCH_INDICATORS_PORT']}"
    hits: list[int] = []
    for attempt in range(kills + 1):
        log = logs / f"indicators-{attempt}.log"
        # The goal is chosen while no fold runs (the stored offsets stand still), and watched
        # from the moment the process starts: a fast fold cannot finish before it is looked at.
        start = await _progress(dsn, db_schema, kafka.events_topic)
        goal = start + int((total - start) * rng.uniform(0.05, 0.6))
        pid = launch_service("indicators", env, log)
        try:
            if attempt == kills:
                await asyncio.to_thread(wait_ready, url, pid, "indicators", log, 90.0)
                await wait_folded(dsn, db_schema, kafka, timeout=600)
                break
            deadline = time.monotonic() + 300
            while await _progress(dsn, db_schema, kafka.events_topic) < goal:
                assert is_alive(pid), f"indicators exited before the kill; see {log}"
                assert time.monotonic() < deadline, "the fold made no progress"
                await asyncio.sleep(rng.uniform(0.0, 0.02))
            stop(pid, service_marker("indicators"), sig=signal.SIGKILL, timeout=10)
            hits.append(await _progress(dsn, db_schema, kafka.events_topic))
        finally:
            stop(pid, service_marker("indicators"), timeout=20)
    assert await folded_totals(dsn, db_schema) == stream.totals()
    conn = await asyncpg.connect(dsn)
    try:
        acts = await conn.fetchval(f"SELECT count(*) FROM {db_schema}.acts")  # noqa: S608
    finally:
        await conn.close()
    assert acts == stream.unique_acts
    assert all(0 < hit < total for hit in hits), (hits, total)
    return hits


async def test_sigkill_while_folding_loses_and_doubles_nothing(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> None:
    hits = await crash_and_check(
        infra, kafka_settings, db_schema, tmp_path, events=20_000, kills=2, seed=2024
    )
    assert len(hits) == 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
async def test_sigkill_while_folding_200k_events(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path, seed: int
) -> None:
    hits = await crash_and_check(
        infra, kafka_settings, db_schema, tmp_path, events=200_000, kills=3, seed=seed
    )
    assert len(hits) == 3
