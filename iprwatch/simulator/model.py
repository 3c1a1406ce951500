"""The simulator's rates: citywide yearly flows, how they spread over districts, the mess.

Calibration (Chongqing reference data, `shared/data/chongqing-reference.yaml`):

- invention grants per year: 9,413 (2021), 12,200 (2022), 13,600 (2023), 14,300 (2024);
- PCT filings per year: 393 (2021), 451 (2022), 528 (2023);
- work copyright registrations per year: 183,200 (2021), 170,200 (2022), 150,900 (2023);
- valid trademarks: 604,000 (end 2020), 806,600 (2022), 866,600 (2023), 895,400 (2024): the
  yearly registrations are the net growth divided by (1 - trademark lapse share);
- geographical indications: 278 (end 2020), 295 (2022), 298 (2023): the yearly net growth, half
  GI products and half GI trademarks;
- Madrid: only applications were published (76 in 2021, 51 in 2022); used as the rate.
- invention lapses: the published stock per 10k people (16.14 in 2022 ... 22.94 in 2024 times
  the census population: 51,735 ... 73,532) grew by 38,532 from the 35,000 of 2020 while
  49,513 patents were granted: about 11,000 lapsed in 2021-2024. The simulator lapses a granted
  patent with probability `invention_lapse_share` 6 to 48 months after its grant (fewer than
  that share fall inside the window), and lapses patents of the baseline stock (granted before
  2021, never sent) at 5% of the 35,000 a year (`STOCK_LAPSES`); together about 11,000 by 2024.

A year after the last published one repeats the last published flow.

Assumptions (simulated traffic, NOT data claims: no source published these flows):
software copyright registrations (25,000 a year), IP pledge financing (600 pledges a year,
1 to 20 million yuan each, in whole 10,000s), the IP service revenue reports (each district's
share of a citywide total growing from 600 million yuan in 2021 by 100 million a year),
the high-value share of grants (35%, near the published high-value/all ratio of 2022-2024),
transfers (3%), reclassifications (4%), restorations (5% of lapses), agricultural share of
trademarks (16.7% = 101,000/604,000 at the baseline).

Spread over districts: by census population. The 11 counties whose population is unknown each
get `unknown_population_share` (0.5%) of every citywide flow, an explicit simulation choice,
not an estimate of their population; the other districts share the rest by population.
A lagging district's flows are multiplied by `lag_factor`.

A district with its own published targets (Dazu) follows, for those indicators, its target's
path (target / 60 months a month, times `lag_factor` if it lags) instead of its population
share, whatever the scale: a target is an absolute number. Its pledges come one a month, each
about a month's share of its pledge target (0.5 to 1.5 times).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from shared.plan import Plan

# Citywide acts per year, by year; the last year given repeats afterwards.
INVENTION_GRANTS = {2021: 9413, 2022: 12200, 2023: 13600, 2024: 14300}
PCT_FILINGS = {2021: 393, 2022: 451, 2023: 528}
WORK_COPYRIGHTS = {2021: 183200, 2022: 170200, 2023: 150900}
MADRID = {2021: 76, 2022: 51}
SOFTWARE_COPYRIGHTS = {2021: 25000}  # assumption
PLEDGES = {2021: 600}  # assumption
TRADEMARK_LAPSE_SHARE = 0.08
# Net growth of the valid trademark stock per year (published stocks), registrations on top.
_TRADEMARK_NET = {2021: 101300, 2022: 101300, 2023: 60000, 2024: 28800}
TRADEMARKS = {y: round(n / (1 - TRADEMARK_LAPSE_SHARE)) for y, n in _TRADEMARK_NET.items()}
# Net growth of the geographical indications per year (278 -> 295 over 2021-2022, +3 in 2023).
GEOGRAPHICAL_INDICATIONS = {2021: 8.5, 2022: 8.5, 2023: 3.0}
STOCK_LAPSES = {2021: 0.05 * 35_000}  # lapses of patents granted before 2021, per year
REVENUE_2021_CNY = 600_000_000  # assumption: citywide, growing by REVENUE_GROWTH_CNY a year
REVENUE_GROWTH_CNY = 100_000_000


def per_year(flows: Mapping[int, float], year: int) -> float:
    """The flow of `year`: its published value, or the last published one after it."""
    if year in flows:
        return float(flows[year])
    known = [y for y in flows if y <= year]
    return float(flows[max(known)] if known else flows[min(flows)])


@dataclass(frozen=True)
class Mess:
    """The real-world mess in a registry feed (shares of the events sent)."""

    duplicate_share: float = 0.02  # the same event (same source and id) sent again
    resent_share: float = 0.01  # the same act re-sent under a new id
    late_share: float = 0.02  # sent 1 to 6 months after its month
    utc_share: float = 0.1  # time written in UTC (the month is still Asia/Shanghai's)
    baseline_acts: int = 3  # acts dated 2020-12 (already in the baseline) sent with 2021-01


@dataclass(frozen=True)
class Rates:
    """Shares of the follow-up acts and attributes; see the module's doc for their grounds."""

    high_value_share: float = 0.35
    invention_lapse_share: float = 0.22
    restore_share: float = 0.05
    transfer_share: float = 0.03
    reclassify_share: float = 0.04
    agricultural_share: float = 0.167
    trademark_lapse_share: float = TRADEMARK_LAPSE_SHARE
    revenue_correction_share: float = 0.1
    unknown_population_share: float = 0.005
    lag_factor: float = 0.25


@dataclass(frozen=True)
class Scenario:
    """What to simulate: which months, how much, which districts lag, which seed."""

    first_month: date
    last_month: date
    seed: int = 2021
    scale: float = 0.01
    lagging: frozenset[str] = frozenset({"500111"})
    until: date | None = None  # no act dated after this day (today, for a live stack)
    rates: Rates = field(default_factory=Rates)
    mess: Mess = field(default_factory=Mess)
    statistics: bool = False  # also the loaded plans' official statistics (statistics.py)


def district_weights(plan: Plan, rates: Rates, lagging: frozenset[str]) -> dict[str, float]:
    """Share of each citywide flow per district (lagging districts scaled down)."""
    unknown = [d.code for d in plan.districts if d.population is None]
    known = {d.code: d.population for d in plan.districts if d.population is not None}
    rest = 1.0 - rates.unknown_population_share * len(unknown)
    total = sum(known.values())
    weights = {code: rest * pop / total for code, pop in known.items()}
    weights.update(dict.fromkeys(unknown, rates.unknown_population_share))
    return {code: w * (rates.lag_factor if code in lagging else 1.0) for code, w in weights.items()}


def revenue_of(year: int) -> float:
    """The simulated citywide IP service revenue of `year` (an assumption, see above)."""
    return float(REVENUE_2021_CNY + REVENUE_GROWTH_CNY * (year - 2021))
