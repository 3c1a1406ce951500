"""The fold's lanes: one or several transactions in flight, each over its own partitions, and
every event counted once either way."""

from __future__ import annotations

import pytest

from services.indicators.bootstrap import running
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import (
    end_offsets,
    folded_totals,
    produce,
    stored_offsets,
    wait_folded,
)
from tests.integration.indicators.stream import generate

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("lanes", [1, 4])  # 4 lanes over 3 partitions: one lane has none
async def test_every_event_counts_once_whatever_the_lanes(
    lanes: int,
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    stream = generate(5000, seed=40 + lanes, poison=2)
    settings = indicators_settings.model_copy(
        update={"fold_lanes": lanes, "batch_max_records": 700}
    )
    metrics = IndicatorsMetrics()
    await produce(kafka_settings, stream.records[: len(stream.records) // 2])
    async with running(settings, metrics) as app:
        await produce(kafka_settings, stream.records[len(stream.records) // 2 :])
        await wait_folded(dsn, db_schema, kafka_settings)
        loops = {name for name in app.supervisor.checks() if name.startswith("loop:fold")}
        assert loops == {"loop:fold"} | {f"loop:fold-{lane}" for lane in range(1, lanes)}
        assert all(app.supervisor.checks()[name] for name in loops)
        folded = {
            outcome: metrics.events_folded.labels(outcome)._value.get()
            for outcome in ("applied", "duplicate", "skipped")
        }
        dead = metrics.dead_letters.labels("malformed")._value.get()
    assert await folded_totals(dsn, db_schema) == stream.totals()
    ends = {p: end for p, end in (await end_offsets(kafka_settings)).items() if end > 0}
    assert await stored_offsets(dsn, db_schema, kafka_settings.events_topic) == ends
    assert dead == 2  # the two poison records, each dead-lettered once
    assert folded["applied"] + folded["duplicate"] + dead == sum(ends.values())
    assert folded["skipped"] == 0
