"""The snapshot: the API's ledgers at every refresh that finds new totals, the metrics' values
at most every `metrics_seconds`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.snapshot import Snapshot
from shared.plans import load_plans
from tests.unit.indicators.fakes import MemoryStore

KEY = ("500112", "software_copyright_registrations_cumulative", date(2026, 3, 1))
METRIC = ("chongqing-15th-fyp", "500112", "software_copyright_registrations_cumulative")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_ledgers_follow_every_change_and_the_metrics_at_most_every_interval() -> None:
    store, clock, metrics = MemoryStore(), Clock(), IndicatorsMetrics()
    snapshot = Snapshot(load_plans(), store, metrics, metrics_seconds=2.0, clock=clock)

    def api_value() -> float | None:
        return snapshot.ledgers["chongqing-15th-fyp"].value(KEY[0], KEY[1])

    def metric_value() -> float | None:
        found = metrics.snapshot.values.get(METRIC)
        return None if found is None else found.value

    store.deltas[KEY] = Decimal(3)
    await snapshot.refresh()
    first = api_value()
    assert first is not None and metric_value() == first
    store.deltas[KEY] += 2
    clock.now += 0.5
    await snapshot.refresh()
    assert api_value() == first + 2  # the API at once
    assert metric_value() == first  # the metrics not yet
    clock.now += 1.6
    await snapshot.refresh()  # no new totals, but the metrics are due
    assert metric_value() == first + 2
    ledgers = snapshot.ledgers
    clock.now += 5
    await snapshot.refresh()  # nothing new at all: the same ledgers, nothing recomputed
    assert snapshot.ledgers is ledgers
