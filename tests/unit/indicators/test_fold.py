"""The fold's semantics on the pure domain: order, duplicates, no plan, transfers, reports."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.indicators.domain.acts import parse_record
from services.indicators.domain.batch import Position
from services.indicators.service.folding import FoldHandler
from shared.plan import Plan, default_plan_path, load_plan
from shared.plans import load_plans
from tests.integration.indicators.stream import generate, record
from tests.unit.indicators.fakes import MemoryStore


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


@dataclass
class Folded:
    store: MemoryStore
    duplicates: int

    def nonzero(self) -> dict[tuple[str, str, date], Decimal]:
        return self.store.nonzero()


def act(n: int, kind: str, subject: str | None, when: str, **data: Any) -> Any:
    from datetime import datetime

    _, value, headers = record(n, kind, subject, datetime.fromisoformat(when), data)
    return parse_record(value, headers)


def fold(plan: Plan, acts: list[Any], batch: int = 1) -> Folded:
    """The acts through the service's fold (screening, deltas) on the in-memory store, in
    batches of `batch` records of one partition."""
    store = MemoryStore()
    handler = FoldHandler(load_plans(), store, dead_letters=None)  # type: ignore[arg-type]

    async def run() -> int:
        duplicates = 0
        for start in range(0, len(acts), batch):
            records = [
                (Position("events", 0, start + n), act)
                for n, act in enumerate(acts[start : start + batch])
            ]
            duplicates += (await handler.apply(records)).duplicates
        return duplicates

    return Folded(store, asyncio.run(run()))


M5, M7 = date(2023, 5, 1), date(2023, 7, 1)


def test_a_lapse_before_its_high_value_grant_nets_out_in_each_month(plan: Plan) -> None:
    grant = act(1, "patent.invention.granted", "ZL1", "2023-05-12T00:00:00+08:00",
                district="500112", high_value=True)  # fmt: skip
    lapse = act(2, "patent.invention.lapsed", "ZL1", "2023-07-02T00:00:00+08:00",
                district="500112")  # fmt: skip
    for order in ([grant, lapse], [lapse, grant]):
        totals = fold(plan, order).nonzero()
        assert totals == {
            ("500112", "valid_invention_patents", M5): 1,
            ("500112", "high_value_invention_patents", M5): 1,
            ("500112", "valid_invention_patents", M7): -1,
            ("500112", "high_value_invention_patents", M7): -1,
        }


def test_the_month_is_the_month_in_shanghai(plan: Plan) -> None:
    late_utc = act(1, "pct.application.filed", "PCT1", "2023-04-30T17:00:00+00:00",
                   district="500101")  # fmt: skip
    assert fold(plan, [late_utc]).nonzero() == {("500101", "pct_applications_cumulative", M5): 1}


def test_acts_of_any_date_count_in_their_month_whatever_the_plans(plan: Plan) -> None:
    old_grant = act(1, "patent.invention.granted", "ZL2", "2019-03-01T00:00:00+08:00",
                    district="500103", high_value=True)  # fmt: skip
    lapse = act(2, "patent.invention.lapsed", "ZL2", "2023-05-20T00:00:00+08:00",
                district="500103")  # fmt: skip
    eve = act(3, "pct.application.filed", "P9", "2020-12-31T23:59:00+08:00", district="500103")
    for order in ([old_grant, lapse, eve], [lapse, eve, old_grant]):
        assert fold(plan, order).nonzero() == {
            ("500103", "valid_invention_patents", date(2019, 3, 1)): 1,
            ("500103", "high_value_invention_patents", date(2019, 3, 1)): 1,
            ("500103", "pct_applications_cumulative", date(2020, 12, 1)): 1,
            ("500103", "valid_invention_patents", M5): -1,
            ("500103", "high_value_invention_patents", M5): -1,
        }


def test_a_later_statistic_report_corrects_the_earlier_in_any_order(plan: Plan) -> None:
    key = "patent_intensive_industries_gdp_share"
    first = act(1, "statistic.reported", None, "2024-03-01T00:00:00+08:00",
                district="500000", indicator=key, period="2023", value=0.131)  # fmt: skip
    second = act(2, "statistic.reported", None, "2024-06-01T00:00:00+08:00",
                 district="500000", indicator=key, period="2023", value=0.127)  # fmt: skip
    monthly = act(3, "statistic.reported", None, "2024-06-02T00:00:00+08:00",
                  district="500000", indicator=key, period="2024-03", value=0.12)  # fmt: skip
    for order in ([first, second, monthly], [second, monthly, first], [monthly, first, second]):
        for batch in (1, 3):
            assert fold(plan, order, batch).nonzero() == {
                ("500000", key, date(2023, 12, 1)): Decimal("0.127"),
                ("500000", key, date(2024, 3, 1)): Decimal("0.12"),
            }


def test_duplicates_by_id_and_by_natural_key_count_once(plan: Plan) -> None:
    first = act(1, "copyright.software.registered", "SR1", "2023-05-01T08:00:00+08:00",
                district="500106")  # fmt: skip
    again = act(1, "copyright.software.registered", "SR1", "2023-05-01T08:00:00+08:00",
                district="500106")  # fmt: skip
    renamed = act(99, "copyright.software.registered", "SR1", "2023-05-01T08:00:00+08:00",
                  district="500106")  # fmt: skip
    memory = fold(plan, [first, again, renamed])
    assert memory.nonzero() == {("500106", "software_copyright_registrations_cumulative", M5): 1}
    assert memory.duplicates == 2


def test_a_transfer_moves_a_high_value_right_even_before_its_grant_arrives(plan: Plan) -> None:
    transfer = act(2, "patent.invention.transferred", "ZL3", "2023-07-09T00:00:00+08:00",
                   district="500112", from_district="500101")  # fmt: skip
    grant = act(1, "patent.invention.granted", "ZL3", "2023-05-09T00:00:00+08:00",
                district="500101", high_value=True)  # fmt: skip
    totals = fold(plan, [transfer, grant]).nonzero()
    assert totals == {
        ("500101", "valid_invention_patents", M5): 1,
        ("500101", "high_value_invention_patents", M5): 1,
        ("500101", "valid_invention_patents", M7): -1,
        ("500101", "high_value_invention_patents", M7): -1,
        ("500112", "valid_invention_patents", M7): 1,
        ("500112", "high_value_invention_patents", M7): 1,
    }


def test_reclassification_before_the_grant_arrives(plan: Plan) -> None:
    grant = act(1, "patent.invention.granted", "ZL4", "2023-05-09T00:00:00+08:00",
                district="500101", high_value=False)  # fmt: skip
    up = act(2, "patent.invention.reclassified", "ZL4", "2023-07-09T00:00:00+08:00",
             district="500101", high_value=True)  # fmt: skip
    lapse = act(3, "patent.invention.lapsed", "ZL4", "2023-07-29T00:00:00+08:00",
                district="500101")  # fmt: skip
    for order in ([grant, up, lapse], [lapse, up, grant], [up, grant, lapse]):
        assert fold(plan, order).nonzero() == {
            ("500101", "valid_invention_patents", M5): 1,
            ("500101", "valid_invention_patents", M7): -1,
        }, order  # high value: +1 by the reclassification, -1 by the lapse, both in July


def test_a_later_revenue_report_replaces_the_earlier_in_any_order(plan: Plan) -> None:
    first = act(1, "service.revenue.reported", None, "2024-02-01T00:00:00+08:00",
                district="500103", year=2023, amount_cny=1000.5)  # fmt: skip
    second = act(2, "service.revenue.reported", None, "2024-03-01T00:00:00+08:00",
                 district="500103", year=2023, amount_cny=800.25)  # fmt: skip
    for order in ([first, second], [second, first]):
        assert fold(plan, order).nonzero() == {
            ("500103", "ip_service_revenue_cny", date(2023, 12, 1)): Decimal("800.25")
        }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shuffled_stream_folds_to_the_independently_computed_totals(
    plan: Plan, seed: int
) -> None:
    stream = generate(6000, seed)
    acts = [parse_record(value, headers) for _, value, headers in stream.records]
    batch = random.Random(seed).choice([1, 7, 500])
    memory = fold(plan, acts, batch)
    assert memory.nonzero() == stream.totals()
    assert memory.duplicates == stream.duplicates
