"""PostgreSQL restarted with `pg_ctl restart -m immediate` while indicators folds under load.

The service runs as a real process on the session's Kafka and on a PostgreSQL cluster of this
test's own. Once a share of the stream is folded, the cluster is restarted the brutal way (no
checkpoint, every connection cut); nobody touches the service. It must say so on /readyz, come
back by itself, and fold the rest: every total exact, every unique act recorded once, and the
process never exits. The recovery time (restart -> ready and caught up) is printed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from iprwatch.stack import postgres
from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import free_port, is_alive, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from shared.settings import KafkaSettings
from tests.chaos.own_postgres import own_postgres
from tests.integration.indicators.conftest import (
    end_offsets,
    folded_totals,
    produce,
    stored_offsets,
    wait_folded,
)
from tests.integration.indicators.stream import generate
from tests.support.services import service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def loop_restarts(text: str) -> dict[str, float]:
    return {
        sample.labels["loop"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ipr_background_loop_restarts_total"
    }


async def _progress(dsn: str, schema: str, topic: str) -> int:
    try:
        return sum(max(0, o) for o in (await stored_offsets(dsn, schema, topic)).values())
    except (OSError, asyncpg.PostgresError):
        return -1


async def _watch_readiness(client: httpx.AsyncClient) -> tuple[float, float]:
    """Poll /readyz from just before the restart: when it first said 503, then 200 again."""
    unready_at = None
    while True:
        try:
            status = (await client.get("/readyz")).status_code
        except httpx.HTTPError:
            status = 0
        now = time.monotonic()
        if status == 503 and unready_at is None:
            unready_at = now
        if status == 200 and unready_at is not None:
            return unready_at, now
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("repeat", range(3))
async def test_postgres_restart_while_folding_needs_no_human(
    infra: Endpoints,
    stack_home: StackHome,
    kafka_settings: KafkaSettings,
    db_schema: str,
    unique: str,
    tmp_path: Path,
    repeat: int,
) -> None:
    stream = generate(60_000, seed=300 + repeat, poison=5)
    await produce(kafka_settings, stream.records)
    total = sum((await end_offsets(kafka_settings)).values())
    with own_postgres(stack_home.root / f"pg-{unique}") as cluster:
        env = service_env(infra, kafka_settings, db_schema, {"indicators": free_port()})
        env["IPRWATCH_PG_DSN"] = cluster.dsn
        env["IPRWATCH_INDICATORS_BATCH_MAX_RECORDS"] = "2000"
        url = f"http://127.0.0.1:{env['IPRWATCH_INDICATORS_PORT']}"
        log = tmp_path / "indicators.log"
        pid = launch_service("indicators", env, log)
        try:
            await asyncio.to_thread(wait_ready, url, pid, "indicators", log, 120.0)
            deadline = time.monotonic() + 300
            while await _progress(cluster.dsn, db_schema, kafka_settings.events_topic) < total // 4:
                assert time.monotonic() < deadline, "the fold made no progress"
                await asyncio.sleep(0.05)
            at = await _progress(cluster.dsn, db_schema, kafka_settings.events_topic)
            async with httpx.AsyncClient(base_url=url, timeout=5) as client:
                watch = asyncio.create_task(_watch_readiness(client))
                restarted = time.monotonic()
                await asyncio.to_thread(cluster.restart_immediately)
                back = time.monotonic()
                unready_at, ready = await asyncio.wait_for(watch, 300)
                assert is_alive(pid), f"indicators exited; see {log}"
                await wait_folded(cluster.dsn, db_schema, kafka_settings, timeout=600)
                caught_up = time.monotonic()
                restarts = loop_restarts((await client.get("/metrics")).text)
                values = await client.get("/v1/indicators", params={"district": "500000"})
            assert restarts["fold"] >= 1  # the fold did fail, and came back by itself
            assert values.status_code == 200
            assert is_alive(pid)
            print(  # noqa: T201 - the numbers the report quotes
                f"\n[postgres restart #{repeat}] {total} records, restart at {at};"
                f" pg_ctl restart {back - restarted:.1f} s; ready {ready - restarted:.1f} s"
                f" after the restart; caught up {caught_up - restarted:.1f} s after it;"
                f" /readyz 503 from {unready_at - restarted:.1f} s; loop restarts {restarts}"
            )
            assert await folded_totals(cluster.dsn, db_schema) == stream.totals()
            conn = await asyncpg.connect(cluster.dsn)
            try:
                acts = await conn.fetchval(f"SELECT count(*) FROM {db_schema}.acts")  # noqa: S608
            finally:
                await conn.close()
            assert acts == stream.unique_acts
        finally:
            stop(pid, service_marker("indicators"), timeout=20)


async def test_start_up_waits_for_a_database_that_is_not_there_yet(
    infra: Endpoints,
    stack_home: StackHome,
    kafka_settings: KafkaSettings,
    db_schema: str,
    unique: str,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = service_env(infra, kafka_settings, db_schema, {"indicators": free_port()})
    env["IPRWATCH_PG_DSN"] = postgres.dsn(port)
    url = f"http://127.0.0.1:{env['IPRWATCH_INDICATORS_PORT']}"
    log = tmp_path / "indicators.log"
    stream = generate(500, seed=77)
    await produce(kafka_settings, stream.records)
    pid = launch_service("indicators", env, log)
    try:
        await asyncio.sleep(8)
        assert is_alive(pid), f"indicators exited without its database; see {log}"
        assert "not reachable yet; retrying" in log.read_text()
        with own_postgres(stack_home.root / f"pg-{unique}", port) as cluster:
            started = time.monotonic()
            await asyncio.to_thread(wait_ready, url, pid, "indicators", log, 120.0)
            print(f"\n[start-up] ready {time.monotonic() - started:.1f} s after PostgreSQL")  # noqa: T201
            await wait_folded(cluster.dsn, db_schema, kafka_settings)
            assert await folded_totals(cluster.dsn, db_schema) == stream.totals()
    finally:
        stop(pid, service_marker("indicators"), timeout=20)
