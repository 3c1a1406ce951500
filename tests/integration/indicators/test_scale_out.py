"""Two indicators processes in one consumer group, with rebalances: the totals stay exact."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest

from iprwatch.stack.processes import free_port, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from shared.settings import KafkaSettings
from tests.integration.indicators.conftest import folded_totals, produce, wait_folded
from tests.integration.indicators.stream import generate
from tests.support.metrics import samples_of
from tests.support.services import service_env

pytestmark = pytest.mark.integration


async def test_two_processes_share_the_partitions_through_rebalances(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> None:
    stream = generate(6_000, seed=77, poison=2)
    third = len(stream.records) // 3
    parts = [stream.records[:third], stream.records[third : 2 * third], stream.records[2 * third :]]
    ports = [free_port(), free_port()]
    envs = []
    for port in ports:
        env = service_env(infra, kafka_settings, db_schema, {"indicators": port})
        env["IPRWATCH_INDICATORS_BATCH_MAX_RECORDS"] = "500"
        envs.append(env)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    pids: list[int] = []
    try:
        await produce(kafka_settings, parts[0])
        pids.append(launch_service("indicators", envs[0], tmp_path / "a.log"))
        await asyncio.to_thread(wait_ready, urls[0], pids[0], "a", tmp_path / "a.log")
        pids.append(launch_service("indicators", envs[1], tmp_path / "b.log"))  # rebalance
        await asyncio.to_thread(wait_ready, urls[1], pids[1], "b", tmp_path / "b.log")
        await produce(kafka_settings, parts[1])
        await assignments(tmp_path / "b.log", 1)  # b holds some partitions beside a
        assert "partitions assigned: []" not in (tmp_path / "b.log").read_text()
        stop(pids[0], service_marker("indicators"), timeout=20)  # rebalance: b takes all
        await assignments(tmp_path / "b.log", 2)
        await produce(kafka_settings, parts[2])  # only b is left to fold these
        await wait_folded(infra.postgres_dsn, db_schema, kafka_settings, timeout=120)
        assert await folded_totals(infra.postgres_dsn, db_schema) == stream.totals()
        await asyncio.sleep(0.5)  # b's snapshot refresher (every 0.2 s)
        values = await samples_of(f"{urls[1]}/metrics", "ipr_indicator_value")
        valid = sum(
            v
            for (_, i, month), v in stream.totals().items()
            if i == "valid_invention_patents" and date(2021, 1, 1) <= month <= date(2025, 12, 1)
        )  # the 14th plan's months
        assert values[("500000", "valid_invention_patents")] == 35000 + float(valid)
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"{urls[1]}/metrics")).text
        assert 'ipr_fold_consumer_lag{partition="0"} 0.0' in text
    finally:
        for pid in pids:
            stop(pid, service_marker("indicators"), timeout=20)
    assert "partitions assigned: [0, 1, 2]" in (tmp_path / "b.log").read_text()


async def assignments(log: Path, count: int, timeout: float = 60) -> None:
    """Until the process logging to `log` has been assigned partitions `count` times."""
    deadline = asyncio.get_running_loop().time() + timeout
    while log.read_text().count("partitions assigned") < count:
        assert asyncio.get_running_loop().time() < deadline, log.read_text()[-2000:]
        await asyncio.sleep(0.2)
