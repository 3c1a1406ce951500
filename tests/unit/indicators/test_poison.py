"""Poison records: refused when read, or isolated from their batch when the database refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import HTTPException

from services.indicators.domain.acts import Unfoldable, parse_record
from services.indicators.domain.values import Ledger
from services.indicators.entrypoints.http_common import AnswerCache, Bounds
from services.indicators.service.folding import FoldHandler
from shared.plan import Plan, default_plan_path, load_plan
from shared.plans import load_plans
from tests.integration.indicators.poison import poison_records
from tests.integration.indicators.stream import generate
from tests.unit.indicators.fakes import MemoryStore


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


@pytest.mark.parametrize("index", range(len(poison_records("u"))))
def test_each_poison_is_refused_when_read(index: int) -> None:
    _, value, headers = poison_records("u")[index]
    with pytest.raises(Unfoldable) as refused:
        parse_record(value, headers)
    assert refused.value.reason in {"malformed", "invalid"}


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]
    key: bytes | None = None


class Letters:
    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []

    async def send(self, record: Any, reason: str, _detail: str) -> None:
        self.sent.append((record.partition, record.offset, reason))


def _batch(size: int, bad: set[int]) -> list[Record]:
    stream = generate(size * 2, seed=3)
    records = []
    for n, (_, value, headers) in enumerate(stream.records[:size]):
        if n in bad:
            headers = [(k, b"BAD-" + v if k == "ce_subject" else v) for k, v in headers]
        records.append(Record("events", n % 3, n // 3, value, headers))
    return records


async def test_a_record_the_database_refuses_is_dead_lettered_alone(plan: Plan) -> None:
    records = _batch(300, bad={17, 200, 201})
    store, letters = MemoryStore(refuse=lambda act: "BAD" in (act.subject or "")), Letters()
    handler = FoldHandler(load_plans(), store, letters)
    prepared = handler.prepare(records)
    assert not prepared.dead
    result, reasons = await handler.commit(prepared)
    refused = sorted((r.partition, r.offset) for r in (records[17], records[200], records[201]))
    assert sorted((p, o) for p, o, _ in letters.sent) == refused
    assert reasons == ["unstorable"] * 3
    assert result.applied + result.duplicates == 297 and len(result.dead) == 3
    assert len(store.acts) == result.applied
    assert await store.stored_offsets("events") == {0: 100, 1: 100, 2: 100}
    for partition in range(3):  # each partition's offsets are committed in order
        stored = [offsets[partition] for offsets in store.stored if partition in offsets]
        assert stored == sorted(stored) and stored[-1] == 100


async def test_a_database_that_is_away_is_not_a_record_fault(plan: Plan) -> None:
    store, letters = MemoryStore(), Letters()
    store.away = True
    handler = FoldHandler(load_plans(), store, letters)
    with pytest.raises(ConnectionResetError):
        await handler.commit(handler.prepare(_batch(50, bad=set())))
    assert store.transactions == 1 and not letters.sent and not store.acts


def test_days_outside_the_plan_years_are_refused(plan: Plan) -> None:
    bounds = Bounds(load_plans())  # 2021-2025 and 2026-2030 plans
    assert (bounds.first_year, bounds.last_year) == (2010, 2040)
    assert str(bounds.day("2040-12", "to", end_of_month=True)) == "2040-12-31"
    assert str(bounds.day("2024-02", "as_of", end_of_month=True)) == "2024-02-29"
    for text in ("9999-11", "9999-12", "2041-01", "2009-12-31", "20230101", "2023-02-30", "x"):
        with pytest.raises(HTTPException) as refused:
            bounds.day(text, "to")
        assert refused.value.status_code == 422, text


async def test_answers_are_cached_until_the_ledger_changes(plan: Plan) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    cache, first, second = AnswerCache(size=2), Ledger(plan, []), Ledger(plan, [])
    assert [await cache.get(first, "a", compute) for _ in range(3)] == [1, 1, 1]
    assert await cache.get(first, "b", compute) == 2
    assert await cache.get(first, "c", compute) == 3  # "a" makes room: the cache is bounded
    assert await cache.get(first, "a", compute) == 4
    assert await cache.get(second, "a", compute) == 5  # a new ledger: everything anew
