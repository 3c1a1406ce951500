"""`iprwatch alerts backtest` without --history replays the series the service stored."""

from __future__ import annotations

import asyncio
import json

import pytest

from iprwatch.cli import main
from services.alerts.adapters.store import AlertStore
from shared.postgres import create_pool
from shared.settings import PostgresSettings

pytestmark = pytest.mark.integration


async def test_the_backtest_reads_the_stored_series(
    postgres_settings: PostgresSettings, db_schema: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    schema = f"{db_schema}_alerts"
    pool = await create_pool(postgres_settings, schema)
    try:
        store = AlertStore(pool)
        await store.migrate()
        series = [("2021-03", 1.0), ("2022-03", 4.0)]
        assert await store.save_series("500111", "madrid_registrations_cumulative", 3, series)
        assert not await store.save_series("500111", "madrid_registrations_cumulative", 2, [])
    finally:
        await pool.close()
    monkeypatch.setenv("IPRWATCH_PG_DSN", postgres_settings.dsn.get_secret_value())
    monkeypatch.setenv("IPRWATCH_ALERTS_DB_SCHEMA", schema)
    # the command runs its own event loop: call it from a worker thread
    code = await asyncio.to_thread(
        main, ["alerts", "backtest", "--from", "2021-01", "--to", "2022-12", "--json"]
    )
    assert code == 0
    out = capsys.readouterr().out
    [episode] = json.loads(out)
    assert (episode["fired"], episode["resolved"], episode["value"]) == ("2021-08", "2022-04", 1.0)
