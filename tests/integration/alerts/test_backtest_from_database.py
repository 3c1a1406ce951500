"""`iprwatch alerts backtest` without --history replays the series the service stored."""

from __future__ import annotations

import asyncio
import json

import pytest

from iprwatch.cli import main
from services.alerts.adapters.alert_states import PgAlerts
from services.alerts.adapters.schema import migrate
from services.alerts.adapters.series import PgSeries
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
        await migrate(pool)
        store = PgSeries(pool)
        series = [("2021-03", 1.0), ("2022-03", 4.0)]
        madrid = "madrid_registrations_cumulative"
        assert await store.save_series("chongqing-14th-fyp", "500111", madrid, 3, series)
        assert not await store.save_series("chongqing-14th-fyp", "500111", madrid, 2, [])
        # the same key of another plan is another series
        assert await store.save_series("chongqing-15th-fyp", "500111", madrid, 1, [("2026-01", 0)])
    finally:
        await pool.close()
    monkeypatch.setenv("IPRWATCH_PG_DSN", postgres_settings.dsn.get_secret_value())
    monkeypatch.setenv("IPRWATCH_ALERTS_DB_SCHEMA", schema)
    # the command runs its own event loop: call it from a worker thread
    code = await asyncio.to_thread(
        main, ["alerts", "backtest", "--plan", "chongqing-14th-fyp", "--from", "2021-01",
               "--to", "2022-12", "--json"]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    [episode] = json.loads(out)  # one whole registration short beyond the tolerance from 2022-01
    assert (episode["fired"], episode["resolved"], episode["value"]) == ("2022-02", "2022-04", 1.0)


OLD_TABLES = """
CREATE TABLE series (district text NOT NULL, indicator text NOT NULL, seq bigint NOT NULL,
    points jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, indicator));
CREATE TABLE alerts (district text NOT NULL, indicator text NOT NULL, state text NOT NULL,
    severity text NOT NULL, status text NOT NULL, active_since timestamptz,
    firing_since timestamptz, clear_since timestamptz, resolved_at timestamptz,
    epoch int NOT NULL DEFAULT 0, last_notified_at timestamptz, repeats int NOT NULL DEFAULT 0,
    snapshot jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, indicator));
CREATE TABLE notice_items (channel text NOT NULL, recipient text NOT NULL,
    district text NOT NULL, indicator text NOT NULL, epoch int NOT NULL, kind text NOT NULL,
    repeat int NOT NULL, snapshot jsonb NOT NULL, created_at timestamptz NOT NULL,
    status text NOT NULL, message_id text,
    PRIMARY KEY (channel, recipient, district, indicator, epoch, kind, repeat));
INSERT INTO series VALUES ('500111', 'geographical_indications', 41, '[["2024-05", 3]]');
INSERT INTO alerts (district, indicator, state, severity, status, epoch, snapshot)
    VALUES ('500111', 'geographical_indications', 'firing', 'critical', 'behind', 2, '{}');
"""


async def test_the_tables_of_a_one_plan_installation_move_to_per_plan_keys(
    postgres_settings: PostgresSettings, db_schema: str
) -> None:
    pool = await create_pool(postgres_settings, f"{db_schema}_old")
    try:
        await pool.execute(OLD_TABLES)
        assert await migrate(pool, "chongqing-14th-fyp") == ["series", "alerts", "notice_items"]
        assert await migrate(pool, "chongqing-14th-fyp") == []  # once
        store = PgSeries(pool)
        gi = "geographical_indications"
        assert await store.points("chongqing-14th-fyp", "500111", gi) == [("2024-05", 3.0)]
        state, _ = await PgAlerts(pool).alert("chongqing-14th-fyp", "500111", gi)
        assert (state.state, state.epoch) == ("firing", 2)
        # seq 0: the first per-plan message replaces the old series, whatever its seq
        assert await store.save_series("chongqing-14th-fyp", "500111", gi, 1, [("2024-06", 4.0)])
    finally:
        await pool.close()
