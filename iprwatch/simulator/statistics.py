"""Official statistics for the `reported` indicators of the loaded plans (shares of GDP, a
satisfaction score, royalty trade, grants abroad): simulated values, NOT data claims.

Which: every `reported` indicator of every loaded plan, for each of that plan's divisions (or
its area) that the simulator covers, i.e. the simulated plan's area and districts (the national
plan's Chongqing, 500000, for the Chongqing plan). An indicator key defined by two plans for the
same division is reported once, by the first plan in id order.

Values: the plan's own path for the division (its baseline to its target, straight, by year;
after the target year the same yearly step), times the division's share of the nation for a
quantity that adds up (a count, an amount) where the division is not the plan's area (its
population over the 2020 census's; an equal share if its population is unknown), each year's
figure off the path by up to `NOISE`. Rounded as a statistics bureau publishes them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shared.plan import Plan

NATIONAL_POPULATION = 1_411_778_724  # the seventh census (2020-11-01), for shares of quantities
NOISE = 0.03  # a year's figure is within 3% of the path
CORRECTION_SHARE = 0.2  # reports corrected later in their year of publication
ADDITIVE_UNITS = frozenset({"count", "cny", "cny_100m"})
DECIMALS = {"count": 0, "cny": 0, "cny_100m": 1, "share": 4, "score": 2, "per_10k_population": 2}


@dataclass(frozen=True)
class Reported:
    """One series to report: a plan's `reported` indicator for one division."""

    plan_id: str
    division: str
    indicator: str
    unit: str
    baseline: float
    yearly_step: float
    baseline_year: int

    def value(self, year: int, rng: random.Random) -> float:
        """The figure of `year`: the path's, off it by up to NOISE, rounded."""
        on_path = self.baseline + self.yearly_step * (year - self.baseline_year)
        noisy = on_path * (1 + rng.uniform(-NOISE, NOISE))
        digits = DECIMALS.get(self.unit, 4)
        return float(round(noisy)) if digits == 0 else round(noisy, digits)


def reported_series(plans: Iterable[Plan], covered: Iterable[str]) -> list[Reported]:
    """The series of the `reported` indicators the simulator covers (see the module's doc)."""
    codes = set(covered)
    found: dict[tuple[str, str], Reported] = {}
    for plan in sorted(plans, key=lambda p: p.id):
        divisions = [plan.city.code] if plan.city.code in codes else []
        divisions += sorted(d.code for d in plan.districts if d.code in codes)
        for indicator in plan.indicators:
            if indicator.kind != "reported" or indicator.baseline is None:
                continue
            for division in divisions:
                if (division, indicator.key) not in found:
                    found[(division, indicator.key)] = _series(plan, division, indicator.key)
    return [found[key] for key in sorted(found)]


def _series(plan: Plan, division: str, key: str) -> Reported:
    indicator = plan.indicator(key)
    assert indicator.baseline is not None  # noqa: S101 - checked by the caller
    years = max(1, plan.target_date.year - plan.baseline_date.year)
    baseline = indicator.baseline.value
    target = indicator.target.value if indicator.target is not None else baseline
    share = 1.0
    if division != plan.city.code and indicator.unit in ADDITIVE_UNITS:
        population = plan.population_of(division)
        share = population / NATIONAL_POPULATION if population else 1 / len(plan.districts)
    return Reported(
        plan_id=plan.id, division=division, indicator=key, unit=indicator.unit,
        baseline=baseline * share, yearly_step=(target - baseline) * share / years,
        baseline_year=plan.baseline_date.year,
    )  # fmt: skip


@dataclass(frozen=True)
class Report:
    """One event to send: a series' figure of a year, first published or corrected."""

    series: Reported
    year: int
    value: float
    day_of_month: int
    month: int  # of the year after `year`
    verb: str  # "report" or "correction"


def reports_of_year(series: Iterable[Reported], year: int, seed: int) -> Iterator[Report]:
    """Each series' figure of `year`, published in April of the year after, and for some a
    correction (the figure revised) between September and December of that year."""
    for one in series:
        rng = random.Random(f"{seed}:statistic:{one.division}:{one.indicator}:{year}")  # noqa: S311
        value = one.value(year, rng)
        yield Report(one, year, value, rng.randint(1, 30), 4, "report")
        if rng.random() < CORRECTION_SHARE:
            revised = one.value(year, rng)
            yield Report(one, year, revised, rng.randint(1, 30), rng.randint(9, 12), "correction")
