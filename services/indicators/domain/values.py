"""Indicator values from the folded monthly deltas and the plan.

- Counted indicators (stock, cumulative, cumulative_sum): the opening balance (the plan's
  baseline where it has one, else 0: a change since the baseline date) plus every delta up to
  the month asked.
- Annual indicators: the value of the latest year with reports (its deltas sit in December).
- Ratios: the numerator's value per 10,000 population; unknown (None) when the population is
  unknown or when the numerator has no opening balance (a change is no stock to divide).
- The city (`plan.city.code`) is the sum of its districts' deltas on the city's baseline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.plan import Plan

Row = tuple[str, str, date, Decimal]
_ONE_DAY = timedelta(days=1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def months(first: date, last: date) -> Iterator[date]:
    month = first
    while month <= last:
        yield month
        month = next_month(month)


@dataclass(frozen=True)
class Progress:
    """What a (district, indicator) stands at, against the plan."""

    value: float | None
    baseline: float | None
    target: float | None
    progress: float | None  # share of the planned change achieved


class Ledger:
    """The folded deltas of every district (and their sum, the city) with the plan."""

    def __init__(self, plan: Plan, rows: Iterable[Row]) -> None:
        self.plan = plan
        self.city = plan.city.code
        self.first_month = next_month(plan.baseline_date.replace(day=1))
        self._deltas: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
        for district, indicator, month, amount in rows:
            for code in (district, self.city):
                by_month = self._deltas[(code, indicator)]
                by_month[month] = by_month.get(month, Decimal(0)) + amount

    def codes(self) -> list[str]:
        return [self.city, *(d.code for d in self.plan.districts)]

    def opening(self, code: str, indicator: str) -> Decimal | None:
        figure = self.plan.baseline_for(code, indicator)
        return None if figure is None else Decimal(repr(figure.value))

    def _ratio_base(self, code: str, indicator: str) -> tuple[str, int] | None:
        """(numerator, population) of a ratio that is known for `code`, else None."""
        numerator = self.plan.indicator(indicator).numerator
        population = self.plan.population_of(code)
        if numerator is None or population is None or self.opening(code, numerator) is None:
            return None
        return numerator, population

    def last_month(self, code: str, indicator: str) -> date | None:
        spec = self.plan.indicator(indicator)
        if spec.kind == "ratio":
            base = self._ratio_base(code, indicator)
            return None if base is None else self.last_month(code, base[0])
        found = [m for m, a in self._deltas.get((code, indicator), {}).items() if a != 0]
        return max(found) if found else None

    def value(self, code: str, indicator: str, through: date | None = None) -> float | None:
        """The value at the end of `through`'s month (None: every month folded so far)."""
        if self.plan.indicator(indicator).kind == "ratio":
            base = self._ratio_base(code, indicator)
            numerator = None if base is None else self.value(code, base[0], through)
            return None if base is None or numerator is None else numerator * (10_000 / base[1])
        exact = self._exact(code, indicator, through)
        return None if exact is None else float(exact)

    def _exact(self, code: str, indicator: str, through: date | None) -> Decimal | None:
        spec = self.plan.indicator(indicator)
        deltas = self._deltas.get((code, indicator), {})
        if spec.kind == "ratio":
            return None
        if spec.kind == "annual":
            years = [m for m, a in deltas.items() if a != 0 and (through is None or m <= through)]
            if not years:
                return self.opening(code, indicator)
            year = max(years).year
            return sum((a for m, a in deltas.items() if m.year == year), Decimal(0))
        total = self.opening(code, indicator) or Decimal(0)
        for month, amount in deltas.items():
            if through is None or month <= through:
                total += amount
        return total

    def series(
        self, code: str, indicator: str, start: date | None = None, end: date | None = None
    ) -> list[tuple[date, float]]:
        """End-of-month values from the first month after the baseline date to the last month
        with data (or `start`..`end`, month by month)."""
        last = self.last_month(code, indicator)
        if end is None:
            end = last
        if end is None:
            return []
        first = max(self.first_month, (start or self.first_month).replace(day=1))
        spec = self.plan.indicator(indicator)
        if spec.kind == "ratio":
            base = self._ratio_base(code, indicator)
            if base is None:
                return []
            scale = 10_000 / base[1]
            return [(m, v * scale) for m, v in self.series(code, base[0], first, end)]
        points: list[tuple[date, float]] = []
        if spec.kind == "annual":
            for month in months(first, end.replace(day=1)):
                value = self.value(code, indicator, month)
                if value is not None:
                    points.append((month, value))
            return points
        deltas = self._deltas.get((code, indicator), {})
        total = self._exact(code, indicator, date(first.year, first.month, 1) - _ONE_DAY)
        running = total if total is not None else Decimal(0)
        for month in months(first, end.replace(day=1)):
            running += deltas.get(month, 0)
            points.append((month, float(running)))
        return points

    def progress(self, code: str, indicator: str, through: date | None = None) -> Progress:
        value = self.value(code, indicator, through)
        baseline = self.plan.baseline_for(code, indicator)
        target = self.plan.target_for(code, indicator)
        ratio = None
        if value is not None and target is not None:
            start = baseline.value if baseline is not None else 0.0
            if target.value != start:
                ratio = (value - start) / (target.value - start)
        return Progress(
            value,
            None if baseline is None else baseline.value,
            None if target is None else target.value,
            ratio,
        )

    def current(self) -> dict[tuple[str, str], Progress]:
        """Every known (district, indicator) now; unknown values are left out."""
        found: dict[tuple[str, str], Progress] = {}
        for code in self.codes():
            for indicator in self.plan.indicator_keys:
                progress = self.progress(code, indicator)
                if progress.value is not None:
                    found[(code, indicator)] = progress
        return found


def ratio_known(plan: Plan, code: str, ratio: str) -> bool:
    """A ratio is known where the population is and its numerator has an opening balance."""
    numerator = plan.indicator(ratio).numerator
    return (
        numerator is not None
        and plan.population_of(code) is not None
        and plan.baseline_for(code, numerator) is not None
    )


def changed_keys(
    plan: Plan, touched: Iterable[tuple[str, str, date]]
) -> set[tuple[str, str, date]]:
    """The (district, indicator, month) values a set of deltas changes: the district's, the
    city's, and the known ratios of both."""
    ratios: dict[str, list[str]] = defaultdict(list)
    for spec in plan.indicators:
        if spec.numerator is not None:
            ratios[spec.numerator].append(spec.key)
    changed: set[tuple[str, str, date]] = set()
    for district, indicator, month in touched:
        for code in (district, plan.city.code):
            changed.add((code, indicator, month))
            for ratio in ratios.get(indicator, ()):
                if ratio_known(plan, code, ratio):
                    changed.add((code, ratio, month))
    return changed
