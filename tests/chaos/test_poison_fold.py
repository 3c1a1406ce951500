"""The poison stream of tests/integration/indicators/test_poison.py at a larger scale: 100,000
events salted with 20 sets of every kind of poison (760 records, 20 of a megabyte each)."""

from __future__ import annotations

import time

import pytest

from services.indicators.settings import IndicatorsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.test_poison import fold_with_poison

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("repeat", range(3))
async def test_poison_at_scale_is_dead_lettered_and_the_fold_goes_on(
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
    repeat: int,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    indicators_settings = IndicatorsSettings(
        db_schema=db_schema, consumer_group=f"{db_schema}-fold", snapshot_refresh_seconds=0.5,
        kafka=kafka_settings, postgres=postgres_settings,
    )  # fmt: skip
    started = time.monotonic()
    dead, ready = await fold_with_poison(
        indicators_settings, kafka_settings, dsn, db_schema, 100_000, copies=20, seed=40 + repeat
    )
    print(  # noqa: T201 - the numbers the report quotes
        f"\n[poison at scale #{repeat}] {len(dead)} dead letters, folded and checked in"
        f" {time.monotonic() - started:.1f} s"
    )
    assert set(dead.values()) == {b"malformed", b"invalid"}
    assert ready["ready"] is True
