"""The fold's throughput alone and with four heavy readers of the API at once.

A real indicators process folds 20,000 events alone, then 20,000 more while four clients
ask, as fast as they are answered, for the widest series the API allows (every month of the
plan's years widened by ten on each side) and the whole /v1/indicators list. The readers
must not starve the fold: their reads are bounded and run on a pool of their own. Prints
both times; the totals of both streams stay exact.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from iprwatch.stack.processes import free_port, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from shared.settings import KafkaSettings
from tests.integration.indicators.conftest import folded_totals, produce, wait_folded
from tests.integration.indicators.stream import generate
from tests.support.services import service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEAVY = [
    ("/v1/series", {"district": "500000", "indicator": "valid_invention_patents",
                    "from": "2010-01", "to": "2035-12"}),
    ("/v1/series", {"district": "500112", "indicator": "ip_service_revenue_cny",
                    "from": "2010-01", "to": "2035-12"}),
    ("/v1/indicators", {}),
]  # fmt: skip


async def _reader(url: str, stop_at: asyncio.Event, statuses: Counter[int]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        n = 0
        while not stop_at.is_set():
            path, params = HEAVY[n % len(HEAVY)]
            n += 1
            statuses[(await client.get(path, params=params)).status_code] += 1


async def test_four_heavy_readers_do_not_starve_the_fold(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> None:
    env = service_env(infra, kafka_settings, db_schema, {"indicators": free_port()})
    url = f"http://127.0.0.1:{env['IPRWATCH_INDICATORS_PORT']}"
    log = tmp_path / "indicators.log"
    first, second = generate(20_000, seed=501), generate(20_000, seed=502)
    pid = launch_service("indicators", env, log)
    dsn = infra.postgres_dsn
    try:
        await asyncio.to_thread(wait_ready, url, pid, "indicators", log, 120.0)
        started = time.monotonic()
        await produce(kafka_settings, first.records)
        await wait_folded(dsn, db_schema, kafka_settings, timeout=600)
        alone = time.monotonic() - started
        stop_at, statuses = asyncio.Event(), Counter[int]()
        readers = [asyncio.create_task(_reader(url, stop_at, statuses)) for _ in range(4)]
        await asyncio.sleep(1.0)  # the readers are busy before the events come
        started = time.monotonic()
        await produce(kafka_settings, second.records)
        await wait_folded(dsn, db_schema, kafka_settings, timeout=600)
        with_readers = time.monotonic() - started
        stop_at.set()
        await asyncio.gather(*readers)
    finally:
        stop(pid, service_marker("indicators"), timeout=20)
    print(  # noqa: T201 - the numbers the report quotes
        f"\n[fold with readers] 20,000 events alone: {alone:.1f} s; with four heavy readers:"
        f" {with_readers:.1f} s; reads answered: {dict(statuses)}"
    )
    # Counted indicators add up over both streams; a (district, year) revenue is its latest
    # report, which may come from either stream: only its presence is compared.
    revenue = "ip_service_revenue_cny"
    expected: dict[tuple[str, str, date], Decimal] = {}
    for key, amount in [*first.totals().items(), *second.totals().items()]:
        if key[1] != revenue:
            expected[key] = expected.get(key, Decimal(0)) + amount
    folded = await folded_totals(dsn, db_schema)
    assert {k: v for k, v in folded.items() if k[1] != revenue} == {
        k: v for k, v in expected.items() if v != 0
    }
    assert {k for k in folded if k[1] == revenue} == {
        k for k in [*first.totals(), *second.totals()] if k[1] == revenue
    }
    assert set(statuses) == {200} and sum(statuses.values()) > 0
