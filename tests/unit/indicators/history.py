"""A random history of monthly amounts over every loaded plan's codes and indicators (and a
few codes no plan holds), for the tests that compare two ways of reading one history."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from services.indicators.domain.values import MonthKey
from shared.months import months
from shared.plans import PlanSet

MONTHS = months(date(2019, 6, 1), date(2031, 3, 1))


def random_amounts(rng: random.Random, plans: PlanSet, keys: int) -> dict[MonthKey, Decimal]:
    # every plan's divisions and areas, a county inside a district, a code no plan holds
    codes = sorted({code for plan in plans for code in (plan.city.code, *plan.district_codes)})
    codes += ["500112001", "110101", "999999"]
    indicators = sorted({spec.key for plan in plans for spec in plan.indicators})
    found: dict[MonthKey, Decimal] = {}
    for _ in range(keys):
        amount = Decimal(rng.randint(-20, 60)) / (100 if rng.random() < 0.2 else 1)
        if amount:
            found[(rng.choice(codes), rng.choice(indicators), rng.choice(MONTHS))] = amount
    return found
