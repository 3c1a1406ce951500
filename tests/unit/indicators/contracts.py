"""The behaviour every adapter of the indicators' store ports must have, written once.

`StoreContract` is run against the in-memory fakes (`test_memory_store.py`) and against
PostgreSQL (`tests/integration/indicators/test_postgres_store.py`): a subclass only says how
to make a fresh, empty store (`stores` fixture: the FoldStore, the Outbox, the Totals and the
RecentActs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.indicators.domain.acts import Act
from services.indicators.service.ports import (
    FoldStore,
    Outbox,
    Pending,
    RecentAct,
    RecentActs,
    RecordFault,
    Totals,
)
from shared.event_types import GRANTED, LAPSED, REVENUE, SOFTWARE, STATISTIC, TM_REGISTERED

T = datetime(2023, 5, 12, tzinfo=UTC)
M5, M6 = date(2023, 5, 1), date(2023, 6, 1)


@dataclass
class Stores:
    fold: FoldStore
    outbox: Outbox
    totals: Totals
    recent: RecentActs


def act(ident: str, type_: str = SOFTWARE, subject: str | None = None, **more: object) -> Act:
    return Act(source="test", id=ident, type=type_, subject=subject, district="500112",
               time=T, **more)  # type: ignore[arg-type]  # fmt: skip


class Boom(Exception):
    pass


def on(day: int, hour: int = 0) -> datetime:
    return datetime(2023, 5, day, hour, tzinfo=UTC)


def seen(found: Act) -> RecentAct:
    """What `latest_acts` gives of an act."""
    return RecentAct(found.type, found.subject, found.district, found.time, found.year,
                     found.indicator, found.period)  # fmt: skip


class StoreContract:
    async def test_an_act_is_recorded_once_by_id_and_by_natural_key(self, stores: Stores) -> None:
        first, again = act("a", subject="2023SR1"), act("a", subject="2023SR1")
        renamed = act("b", subject="2023SR1")  # the same right under another event id
        other = act("c", subject="2023SR2")
        async with stores.fold.transaction() as tx:
            assert await tx.record([first, other]) == [first, other]
        async with stores.fold.transaction() as tx:
            assert await tx.record([again, renamed, act("d")]) == [act("d")]

    async def test_a_failed_transaction_leaves_nothing(self, stores: Stores) -> None:
        with pytest.raises(Boom):
            async with stores.fold.transaction() as tx:
                await tx.claim_offsets("events", [0, 1])
                await tx.record([act("a", subject="S1")])
                await tx.add_deltas({("500112", "software", M5): 1})
                await tx.bump_outbox({("p", "500112", "software", M5)})
                await tx.store_offsets("events", {0: 7})
                raise Boom
        assert await stores.fold.stored_offsets("events") == {}
        assert await stores.totals.monthly_rows() == []
        assert await stores.outbox.pending() == []
        async with stores.fold.transaction() as tx:
            assert await tx.claim_offsets("events", [0]) == {0: -1}
            assert await tx.record([act("a", subject="S1")]) == [act("a", subject="S1")]

    async def test_offsets_are_claimed_and_stored_per_topic(self, stores: Stores) -> None:
        async with stores.fold.transaction() as tx:
            assert await tx.claim_offsets("events", [2, 0]) == {0: -1, 2: -1}
            await tx.store_offsets("events", {0: 10})
        async with stores.fold.transaction() as tx:
            assert await tx.claim_offsets("events", [0, 1, 2]) == {0: 10, 1: -1, 2: -1}
            await tx.store_offsets("events", {1: 3, 0: 12})
        assert await stores.fold.stored_offsets("events") == {0: 12, 1: 3}
        assert await stores.fold.stored_offsets("other") == {}

    async def test_states_hold_the_earlier_acts_of_each_key(self, stores: Stores) -> None:
        grant = act("g", GRANTED, "ZL1", high_value=True)
        lapse = act("l", LAPSED, "ZL1")
        report = act("r", REVENUE, None, year=2023, amount=Decimal("12.5"))
        async with stores.fold.transaction() as tx:
            recorded = await tx.record([grant, report])
            assert await tx.states(recorded) == {"patent:ZL1": [], "revenue:500112:2023": []}
        correction = act("r2", REVENUE, None, year=2023, amount=Decimal("13"))
        async with stores.fold.transaction() as tx:
            recorded = await tx.record([lapse, correction, act("x")])
            assert await tx.states(recorded) == {
                "patent:ZL1": [grant],
                "revenue:500112:2023": [report],
            }

    async def test_deltas_add_up_and_zero_sums_are_not_read(self, stores: Stores) -> None:
        async with stores.fold.transaction() as tx:
            await tx.add_deltas({("500112", "valid", M5): 2, ("500112", "valid", M6): 1})
        async with stores.fold.transaction() as tx:
            await tx.add_deltas(
                {("500112", "valid", M5): Decimal("3.5"), ("500112", "valid", M6): -1}
            )
        rows = await stores.totals.monthly_rows()
        assert rows == [("500112", "valid", M5, Decimal("5.5"))]

    async def test_the_outbox_counts_changes_until_published(self, stores: Stores) -> None:
        async with stores.fold.transaction() as tx:
            await tx.bump_outbox({("p", "500112", "valid", M6), ("p", "500112", "valid", M5)})
        assert await stores.outbox.pending() == [Pending("p", "500112", "valid", 1, M6)]
        async with stores.fold.transaction() as tx:
            await tx.bump_outbox({("p", "500112", "valid", M5), ("q", "500000", "valid", M5)})
        pending = await stores.outbox.pending()
        assert pending == [
            Pending("p", "500112", "valid", 2, M6),
            Pending("q", "500000", "valid", 1, M5),
        ]
        await stores.outbox.mark_published(pending[:1])
        assert await stores.outbox.pending() == pending[1:]
        assert await stores.outbox.pending(limit=0) == []

    async def test_a_plan_is_queued_when_new_or_changed(self, stores: Stores) -> None:
        keys = {"p": ("digest-1", [("500112", "valid"), ("500000", "valid")])}
        assert await stores.outbox.publish_changed_plans(keys) == ["p"]
        assert [(r.district, r.seq) for r in await stores.outbox.pending()] == [
            ("500000", 1),
            ("500112", 1),
        ]
        await stores.outbox.mark_published(await stores.outbox.pending())
        assert await stores.outbox.publish_changed_plans(keys) == []
        assert await stores.outbox.pending() == []
        keys["p"] = ("digest-2", [("500112", "valid")])
        assert await stores.outbox.publish_changed_plans(keys) == ["p"]
        assert [(r.district, r.seq) for r in await stores.outbox.pending()] == [("500112", 2)]

    async def test_a_byte_the_database_cannot_hold_is_a_record_fault(self, stores: Stores) -> None:
        with pytest.raises(RecordFault):
            async with stores.fold.transaction() as tx:
                await tx.record([act("a", subject="ZL\x00")])
        async with stores.fold.transaction() as tx:
            assert await tx.record([act("a", subject="ZL0")]) == [act("a", subject="ZL0")]

    async def test_the_latest_acts_of_a_division_or_an_area_newest_first(
        self, stores: Stores
    ) -> None:
        def made(ident: str, type_: str, subject: str | None, district: str, time: datetime,
                 **more: object) -> Act:  # fmt: skip
            return Act(source="test", id=ident, type=type_, subject=subject, district=district,
                       time=time, **more)  # type: ignore[arg-type]  # fmt: skip

        grant = made("a1", GRANTED, "ZL1", "500112", on(1), high_value=False)
        software = made("a3", SOFTWARE, "2023SR2", "500112", on(3, 8))
        report = made("a2", REVENUE, None, "500112", on(3, 8), year=2022, amount=Decimal(5))
        mark = made("b1", TM_REGISTERED, "TM1", "500101", on(2))
        county = made("c1", SOFTWARE, "2023SR3", "500243", on(4))
        city = made("d1", STATISTIC, None, "500000", on(1, 12), indicator="pct_share",
                    period="2022", amount=Decimal("1.5"))  # fmt: skip
        sichuan = made("e1", SOFTWARE, "2023SR4", "510104", on(5))
        async with stores.fold.transaction() as tx:
            await tx.record([grant, software, report, mark, county, city, sichuan])
        latest = stores.recent.latest_acts
        # the same instant: by (source, id)
        assert await latest("500112", 20) == [seen(report), seen(software), seen(grant)]
        assert await latest("500112", 2) == [seen(report), seen(software)]
        # a province (Chongqing): every division whose code starts 50, the city's own reports
        assert await latest("500000", 20) == [
            seen(county), seen(report), seen(software), seen(mark), seen(city), seen(grant),
        ]  # fmt: skip
        # a prefecture: 5001..
        assert await latest("500100", 20) == [seen(report), seen(software), seen(mark),
                                              seen(grant)]  # fmt: skip
        assert (await latest("100000", 1)) == [seen(sichuan)]
        assert len(await latest("100000", 20)) == 7
        assert await latest("500106", 20) == []
