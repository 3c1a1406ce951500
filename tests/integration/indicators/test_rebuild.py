"""Rebuild: replay the topic into shadow tables and swap them in under a running fold."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.indicators.bootstrap.rebuild import rebuild
from services.indicators.settings import IndicatorsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import RunFold, folded_totals, produce, wait_folded
from tests.integration.indicators.stream import generate

pytestmark = pytest.mark.integration


async def test_a_rebuild_repairs_the_totals_while_the_fold_runs(
    run_fold: RunFold,
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    stream = generate(6000, seed=31, poison=1)
    third = len(stream.records) // 3
    parts = [stream.records[:third], stream.records[third : 2 * third], stream.records[2 * third :]]
    await produce(kafka_settings, parts[0])
    async with run_fold() as app:
        await wait_folded(dsn, db_schema, kafka_settings)
        conn = await asyncpg.connect(dsn)
        try:  # damage the live totals: only a rebuild from the topic can repair them
            await conn.execute(
                f"DELETE FROM {db_schema}.monthly_deltas WHERE district = '500112'"  # noqa: S608
            )
        finally:
            await conn.close()
        await app.refresh()
        damaged = app.ledgers["chongqing-14th-fyp"].value("500112", "valid_invention_patents")
        assert damaged == 0.0
        offsets_taken = asyncio.Event()
        seen: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            seen.append((done, total))
            offsets_taken.set()

        rebuilding = asyncio.create_task(rebuild(indicators_settings, progress))
        await offsets_taken.wait()
        await produce(kafka_settings, parts[1])  # folded live while the rebuild runs
        result = await rebuilding
        await produce(kafka_settings, parts[2])
        await wait_folded(dsn, db_schema, kafka_settings)
        await asyncio.sleep(0.5)
        assert await folded_totals(dsn, db_schema) == stream.totals()
        await app.refresh()
        assert (
            app.ledgers["chongqing-14th-fyp"].value("500112", "valid_invention_patents") != damaged
        )
    assert seen[0] == (0, third) and seen[-1] == (third, third)
    assert result.records == third
    conn = await asyncpg.connect(dsn)
    try:
        acts = await conn.fetchval(f"SELECT count(*) FROM {db_schema}.acts")  # noqa: S608
        await conn.execute(f"DROP SCHEMA {result.retired_schema} CASCADE")
    finally:
        await conn.close()
    assert acts == stream.unique_acts
