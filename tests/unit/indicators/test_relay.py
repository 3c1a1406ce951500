"""The relay on the in-memory store: pending keys published with the values read after them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.relay import relay_once
from services.indicators.service.snapshot import Snapshot
from shared.indicator_events import IndicatorChanged
from shared.plans import load_plans
from tests.unit.indicators.fakes import MemoryStore

P14, YUBEI, PCT = "chongqing-14th-fyp", "500112", "pct_applications_cumulative"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[IndicatorChanged] = []

    async def publish(self, changes: Sequence[IndicatorChanged]) -> None:
        self.sent.extend(changes)


async def test_a_pending_key_is_published_once_with_its_value_now() -> None:
    store, recorder = MemoryStore(), Recorder()
    snapshot = Snapshot(load_plans(), store, IndicatorsMetrics())
    async with store.transaction() as tx:
        await tx.add_deltas({(YUBEI, PCT, date(2023, 5, 1)): 2})
        await tx.bump_outbox({(P14, YUBEI, PCT, date(2023, 5, 1))})
    store.deltas[(YUBEI, PCT, date(2023, 6, 1))] = Decimal(3)  # committed after the bump
    assert await relay_once(store, snapshot, recorder) == 1
    [sent] = recorder.sent
    assert (sent.plan, sent.district, sent.indicator, sent.seq) == (P14, YUBEI, PCT, 1)
    assert [(p.month, p.value) for p in sent.series][-2:] == [("2023-05", 2.0), ("2023-06", 5.0)]
    assert sent.value == 5.0  # read after the outbox row: never older than what it counts
    assert await relay_once(store, snapshot, recorder) == 0  # marked published
    assert len(recorder.sent) == 1
