"""Poison records straight on the topic: each is dead-lettered with its reason, the good ones
are folded exactly, and the service stays ready (nothing stops the fold)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from services.indicators.domain import acts
from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import folded_totals, produce, wait_folded
from tests.integration.indicators.poison import poison_records
from tests.integration.indicators.stream import generate

pytestmark = pytest.mark.integration


async def read_dead_letters(kafka: KafkaSettings, expected: int) -> dict[str, bytes]:
    """origin -> reason of every record on the dead-letter topic (waits for `expected`)."""
    consumer = AIOKafkaConsumer(
        kafka.dead_letter_topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        fetch_max_bytes=8 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    found: dict[str, bytes] = {}
    try:
        for _ in range(100):
            batches = await consumer.getmany(timeout_ms=300)
            for record in (r for part in batches.values() for r in part):
                headers = dict(record.headers)
                found[headers["origin"].decode()] = headers["reason"]
            if len(found) >= expected and not batches:
                break
    finally:
        await consumer.stop()
    return found


async def fold_with_poison(
    settings: IndicatorsSettings,
    kafka: KafkaSettings,
    dsn: str,
    schema: str,
    events: int,
    copies: int = 1,
    seed: int = 11,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Fold a stream salted with `copies` sets of every poison (plus `copies` sets without
    the megabyte subject); returns the dead letters (origin -> reason) and /readyz."""
    stream = generate(events, seed=seed, poison=3)
    poison = [
        bad
        for n in range(copies)
        for bad in poison_records(f"a{n}") + poison_records(f"b{n}", huge=False)
    ]
    records = list(stream.records)
    for n, bad in enumerate(poison):  # spread among the good ones
        records.insert((n * 7919) % len(records), bad)
    await produce(kafka, records)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_folded(dsn, schema, kafka, timeout=180 + events / 500)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = (await client.get("/readyz")).json()
    assert await folded_totals(dsn, schema) == stream.totals()
    dead = await read_dead_letters(kafka, len(poison) + stream.poison)
    assert len(dead) == len(poison) + stream.poison, dead
    return dead, ready


async def test_every_kind_of_poison_is_dead_lettered_and_the_rest_folded(
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    dead, ready = await fold_with_poison(
        indicators_settings, kafka_settings, dsn, db_schema, events=3000
    )
    assert set(dead.values()) == {b"malformed", b"invalid"}
    assert ready == {
        "ready": True,
        "checks": {"postgres": True, "kafka": True, "loop:fold": True, "loop:fold-1": True,
                   "loop:relay": True, "loop:snapshot": True},
    }  # fmt: skip


async def test_a_record_the_database_refuses_is_isolated_from_its_batch(
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the parser's guard, NUL bytes reach PostgreSQL, which refuses the batch: the
    batch is applied again in halves until the record is alone, and only it is dead-lettered."""
    monkeypatch.setattr(acts, "_UNSAFE", re.compile("[\x01-\x1f\x7f\ud800-\udfff]"))
    dsn = postgres_settings.dsn.get_secret_value()
    dead, ready = await fold_with_poison(
        indicators_settings, kafka_settings, dsn, db_schema, events=3000
    )
    assert sorted(dead.values()).count(b"unstorable") == 6  # NUL in subject, id, source (x2)
    assert ready["ready"] is True
