"""The snapshot's ledgers updated by the changed months alone hold what ledgers built from every
row hold, at every step of a random history, and the ledgers they were updated from stay as
they were (the API may be reading them)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from services.indicators.domain.values import Ledgers, MonthKey, Row, differences
from shared.plans import PlanSet, load_plans
from tests.unit.indicators.history import random_amounts


@pytest.fixture(scope="module")
def plans() -> PlanSet:
    return load_plans()


def _changed(
    rng: random.Random, plans: PlanSet, amounts: dict[MonthKey, Decimal]
) -> dict[MonthKey, Decimal]:
    """The next state: some months change, some are gone, some are new."""
    after = dict(amounts)
    for key in rng.sample(sorted(after), k=min(len(after), 40)):
        if rng.random() < 0.3:
            del after[key]
        else:
            after[key] += rng.randint(1, 9)
    after.update(random_amounts(rng, plans, 40))
    return after


def _rows(amounts: dict[MonthKey, Decimal]) -> list[Row]:
    return [(*key, amount) for key, amount in amounts.items()]


def _reading(ledgers: Ledgers) -> dict[tuple[str, str, str, str], object]:
    """Everything a reader asks of the ledgers, for every plan, code and indicator."""
    seen: dict[tuple[str, str, str, str], object] = {}
    for ledger in ledgers:
        for code in ledger.codes():
            for indicator in ledger.plan.indicator_keys:
                where = (ledger.plan.id, code, indicator)
                seen[(*where, "series")] = ledger.series(code, indicator)
                seen[(*where, "progress")] = ledger.progress(code, indicator)
                seen[(*where, "opening")] = ledger.opening(code, indicator)
                seen[(*where, "last")] = ledger.last_month(code, indicator)
                for month in (date(2022, 7, 1), date(2026, 1, 1)):
                    seen[(*where, f"value {month}")] = ledger.value(code, indicator, month)
            for month in (date(2023, 12, 1), date(2026, 12, 1)):
                for indicator in ledger.plan.indicator_keys:
                    seen[(ledger.plan.id, "*", indicator, f"so far {month}")] = (
                        ledger.reported_so_far(indicator, month)
                    )
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_updated_ledgers_read_as_ledgers_built_from_every_row(plans: PlanSet, seed: int) -> None:
    rng = random.Random(seed)
    amounts: dict[MonthKey, Decimal] = {}
    ledgers = Ledgers(plans, [])
    history: list[tuple[Ledgers, dict[tuple[str, str, str, str], object]]] = []
    for _ in range(5):
        after = _changed(rng, plans, amounts) if amounts else random_amounts(rng, plans, 400)
        ledgers = ledgers.updated(differences(amounts, after))
        amounts = after
        expected = _reading(Ledgers(plans, _rows(amounts)))
        assert _reading(ledgers) == expected
        history.append((ledgers, expected))
    for earlier, expected in history:  # an update never changed the ledgers it started from
        assert _reading(earlier) == expected


def test_differences_take_back_a_month_gone_and_add_only_what_changed() -> None:
    may, june, july = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)
    old = {("500112", "x", may): Decimal(3), ("500112", "x", june): Decimal(2)}
    new = {("500112", "x", may): Decimal(3), ("500112", "x", june): Decimal(5),
           ("500101", "x", july): Decimal("1.5")}  # fmt: skip
    assert sorted(differences(old, new)) == [
        ("500101", "x", july, Decimal("1.5")),
        ("500112", "x", june, Decimal(3)),
    ]
    assert differences(new, {}) == [(*key, -amount) for key, amount in new.items()]
    assert differences(new, new) == []
