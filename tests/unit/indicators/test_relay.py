"""The relay on the in-memory store: pending keys published with the values read after them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from services.indicators.domain.values import Ledgers
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.ports import Pending
from services.indicators.service.relay import message_of, relay_once
from services.indicators.service.snapshot import Snapshot
from shared.indicator_events import IndicatorChanged
from shared.months import format_month
from shared.plans import load_plans
from tests.unit.indicators.fakes import MemoryStore
from tests.unit.indicators.history import random_amounts

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


@pytest.mark.parametrize("seed", [1, 2])
def test_a_message_reads_its_values_off_the_series_as_the_ledger_values_them(seed: int) -> None:
    """`message_of` takes the value and the month's value from the series it builds once;
    they must be what `Ledger.value` says, for every kind of indicator and any month."""
    plans = load_plans()
    rows = [
        (*key, amount) for key, amount in random_amounts(random.Random(seed), plans, 3000).items()
    ]
    ledgers = Ledgers(plans, rows)
    touched = [date(2018, 1, 1), date(2021, 6, 1), date(2024, 2, 1), date(2029, 11, 1)]
    checked = 0
    for ledger in ledgers:
        for code in ledger.codes():
            for indicator in ledger.plan.indicator_keys:
                for month in touched:
                    sent = message_of(ledger, Pending(ledger.plan.id, code, indicator, 1, month))
                    series = ledger.series(code, indicator)
                    clamped = min(max(month, ledger.first_month), ledger.last_plan_month)
                    known = bool(series)
                    assert [(p.month, p.value) for p in sent.series] == [
                        (format_month(m), v) for m, v in series
                    ]
                    assert sent.value == (ledger.value(code, indicator) if known else None)
                    assert sent.month_value == (
                        ledger.value(code, indicator, clamped) if known else None
                    )
                    checked += known
    assert checked > 1000  # most keys have a series: the comparison is not vacuous
