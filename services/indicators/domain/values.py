"""A plan's indicator values from the plan-independent monthly deltas.

(Kept whole, a little over 300 lines: the ledger's window, opening balances and roll-up are
one reading of the history, and split they would each need the others.)

The fold stores signed deltas per (division, indicator, month) for every act, whatever its
date. A plan reads them through its own window and opening balances:

- its divisions and area at any level: a division's deltas are those of every division whose
  GB/T 2260 code lies in it (`shared.divisions.within`), the area's those of its divisions,
  except `reported` indicators, whose figures belong to the division they name (a share or a
  score does not add up);
- its months: those after its baseline month, up to its target month (what comes later is
  the next plan's);
- counted indicators (stock, cumulative, cumulative_sum): the opening balance plus every delta
  of its months up to the month asked. The opening balance is the plan's published baseline;
  without one, a `derived` baseline (the value of the plan named by `derive_baselines_from`
  on this plan's baseline date, when that value is a stock); without either, 0: the value is
  then a change since the baseline date (0 while nothing is counted), and its ratios are
  unknown;
- annual and reported indicators: the figure of the latest period with data (a year's revenue
  sits in its December; a reported period in its month), else the opening balance;
- ratios: the numerator's value per 10,000 population; unknown (None) when the population is
  unknown or the numerator has no opening balance (a change is no stock to divide).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from shared.divisions import within
from shared.months import months, next_month, previous_month
from shared.plan import Plan

Row = tuple[str, str, date, Decimal]
BaselineKind = Literal["published", "derived"]
LATEST_KINDS = frozenset({"annual", "reported"})  # the latest period's figure, not a running sum


@dataclass(frozen=True)
class Opening:
    """A plan's opening balance of a (division, indicator) and where it comes from."""

    value: Decimal
    kind: BaselineKind
    source: str


@dataclass(frozen=True)
class Progress:
    """What a (division, indicator) stands at, against the plan."""

    value: float | None
    baseline: float | None
    target: float | None
    progress: float | None  # share of the planned change achieved
    baseline_kind: BaselineKind | None = None


class Ledger:
    """One plan's view of the folded deltas: its divisions, its months, its opening balances."""

    def __init__(self, plan: Plan, rows: Iterable[Row], predecessor: Ledger | None = None) -> None:
        self.plan = plan
        self.area = plan.city.code
        self.predecessor = predecessor
        self.baseline_month = plan.baseline_date.replace(day=1)
        self.first_month = next_month(self.baseline_month)
        self.last_plan_month = plan.target_date.replace(day=1)
        self._codes = [self.area, *(d.code for d in plan.districts)]
        self._kinds = {spec.key: spec.kind for spec in plan.indicators}
        self._containing: dict[str, list[str]] = {}
        # Every month is kept: a predecessor reads its own window, a derived opening the
        # months up to the baseline.
        self._deltas: dict[tuple[str, str], dict[date, Decimal]] = {}
        self._add(rows, None)

    def updated(self, changes: Iterable[Row], predecessor: Ledger | None = None) -> Ledger:
        """A new ledger: this one with `changes` (differences of monthly amounts) added. It
        shares every (code, indicator) the changes leave alone; this one is not changed, so
        its readers never see half an update."""
        new = copy.copy(self)
        new.predecessor = predecessor
        new._deltas = dict(self._deltas)
        new._add(changes, set())
        return new

    def _add(self, rows: Iterable[Row], copied: set[tuple[str, str]] | None) -> None:
        """Add each row's amount to the months of the codes it moves; a key not in `copied`
        (when given) gets a copy of its months first (the months of `updated`'s source)."""
        deltas = self._deltas
        for division, indicator, month, amount in rows:
            kind = self._kinds.get(indicator)
            if kind is None:
                continue
            for code in self.codes_of(division, kind == "reported"):
                key = (code, indicator)
                by_month = deltas.get(key)
                if by_month is None:
                    by_month = deltas[key] = {}
                elif copied is not None and key not in copied:
                    by_month = deltas[key] = dict(by_month)
                if copied is not None:
                    copied.add(key)
                by_month[month] = by_month.get(month, Decimal(0)) + amount

    def codes_of(self, division: str, exact: bool = False) -> list[str]:
        """The plan's codes (area, divisions) whose values a delta of `division` moves."""
        if exact:
            return [division] if division in self._codes else []
        found = self._containing.get(division)
        if found is None:
            # the area is the sum of its divisions: a delta in none of them is in no value
            found = [code for code in self._codes[1:] if within(code, division)]
            if found:
                found.insert(0, self.area)
            self._containing[division] = found
        return found

    def codes(self) -> list[str]:
        return list(self._codes)

    def knows(self, code: str, indicator: str) -> bool:
        return code in self._codes and indicator in self._kinds

    # --- opening balances ------------------------------------------------------------------

    def opening(self, code: str, indicator: str) -> Opening | None:
        """The published baseline, else a derived one, else None (values are changes)."""
        if self._kinds[indicator] == "ratio":
            return None
        figure = self.plan.baseline_for(code, indicator)
        if figure is not None:
            return Opening(Decimal(repr(figure.value)), "published", figure.source)
        earlier = self.predecessor
        if earlier is None or not earlier.knows(code, indicator):
            return None
        if self._kinds[indicator] not in LATEST_KINDS and earlier.opening(code, indicator) is None:
            return None  # the earlier plan only knows a change: no stock to carry over
        value = earlier.exact(code, indicator, self.baseline_month)
        if value is None:
            return None
        source = f"derived: {earlier.plan.id} on {self.plan.baseline_date.isoformat()}"
        return Opening(value, "derived", source)

    # --- values ----------------------------------------------------------------------------

    def _ratio_base(self, code: str, indicator: str) -> tuple[str, int] | None:
        """(numerator, population) of a ratio that is known for `code`, else None."""
        numerator = self.plan.indicator(indicator).numerator
        population = self.plan.population_of(code)
        if numerator is None or population is None or self.opening(code, numerator) is None:
            return None
        return numerator, population

    def _window_end(self, through: date | None) -> date:
        end = self.last_plan_month if through is None else through.replace(day=1)
        return min(end, self.last_plan_month)

    def last_month(self, code: str, indicator: str) -> date | None:
        """The plan's latest month with data for (code, indicator), None without any."""
        if self._kinds[indicator] == "ratio":
            base = self._ratio_base(code, indicator)
            return None if base is None else self.last_month(code, base[0])
        found = [
            m
            for m, a in self._deltas.get((code, indicator), {}).items()
            if a != 0 and self.baseline_month < m <= self.last_plan_month
        ]
        return max(found) if found else None

    def value(self, code: str, indicator: str, through: date | None = None) -> float | None:
        """The value at the end of `through`'s month (None: the latest the plan counts)."""
        if self._kinds[indicator] == "ratio":
            base = self._ratio_base(code, indicator)
            numerator = None if base is None else self.value(code, base[0], through)
            return None if base is None or numerator is None else numerator * (10_000 / base[1])
        exact = self.exact(code, indicator, through)
        return None if exact is None else float(exact)

    def exact(self, code: str, indicator: str, through: date | None = None) -> Decimal | None:
        """The exact value of a counted, annual or reported indicator (None: unknown)."""
        kind = self._kinds[indicator]
        if kind == "ratio":
            return None
        end = self._window_end(through)
        deltas = self._deltas.get((code, indicator), {})
        window = {m: a for m, a in deltas.items() if self.baseline_month < m <= end}
        if kind in LATEST_KINDS:
            found = [m for m, a in window.items() if a != 0]
            if found:
                return window[max(found)]
            opening = self.opening(code, indicator)
            return None if opening is None else opening.value
        opening = self.opening(code, indicator)
        total = opening.value if opening is not None else Decimal(0)
        return total + sum(window.values(), Decimal(0))

    def series(
        self, code: str, indicator: str, start: date | None = None, end: date | None = None
    ) -> list[tuple[date, float]]:
        """End-of-month values from the plan's first month (or `start`) to its latest month
        with data (or `end`), month by month, never past the target month."""
        last = self.last_month(code, indicator) if end is None else self._window_end(end)
        if last is None:
            return []
        first = max(self.first_month, (start or self.first_month).replace(day=1))
        kind = self._kinds[indicator]
        if kind == "ratio":
            base = self._ratio_base(code, indicator)
            if base is None:
                return []
            scale = 10_000 / base[1]
            return [(m, v * scale) for m, v in self.series(code, base[0], first, last)]
        if kind in LATEST_KINDS:
            points: list[tuple[date, float]] = []
            for month in months(first, last):
                value = self.exact(code, indicator, month)
                if value is not None:
                    points.append((month, float(value)))
            return points
        deltas = self._deltas.get((code, indicator), {})
        before = self.exact(code, indicator, previous_month(first))
        running = before if before is not None else Decimal(0)
        found: list[tuple[date, float]] = []
        for month in months(first, last):
            running += deltas.get(month, 0)
            found.append((month, float(running)))
        return found

    def progress(self, code: str, indicator: str, through: date | None = None) -> Progress:
        value = self.value(code, indicator, through)
        opening = self.opening(code, indicator)
        baseline = None if opening is None else float(opening.value)
        if self._kinds[indicator] == "ratio":
            base = self._ratio_base(code, indicator)
            numerator = None if base is None else self.opening(code, base[0])
            if base is not None and numerator is not None:
                baseline, opening = float(numerator.value) * 10_000 / base[1], numerator
        target = self.plan.target_for(code, indicator)
        ratio = None
        if value is not None and target is not None:
            start = baseline if baseline is not None else 0.0
            if target.value != start:
                ratio = (value - start) / (target.value - start)
        return Progress(
            value,
            baseline,
            None if target is None else target.value,
            ratio,
            None if opening is None else opening.kind,
        )

    def reported_so_far(self, indicator: str, month: date) -> tuple[int, int]:
        """(divisions with a figure in `month`, divisions of the plan): for the area's annual
        value of a year that has not ended, "reported so far (n of N)"."""
        codes = self._codes[1:]
        found = sum(1 for code in codes if self._deltas.get((code, indicator), {}).get(month))
        return found, len(codes)

    def current(self) -> dict[tuple[str, str], Progress]:
        """Every (division, indicator) with a value or a target now (the rest are unknown)."""
        found: dict[tuple[str, str], Progress] = {}
        for code in self._codes:
            for indicator in self.plan.indicator_keys:
                progress = self.progress(code, indicator)
                if progress.value is not None or progress.target is not None:
                    found[(code, indicator)] = progress
        return found


class Ledgers:
    """The ledger of every loaded plan over one set of rows (predecessors first)."""

    def __init__(self, plans: Iterable[Plan], rows: Iterable[Row]) -> None:
        materialised = list(rows)
        ordered = sorted(plans, key=lambda plan: (plan.baseline_date, plan.id))
        self.by_plan: dict[str, Ledger] = {}
        for plan in ordered:
            earlier = self.by_plan.get(plan.derive_baselines_from or "")
            self.by_plan[plan.id] = Ledger(plan, materialised, earlier)

    def updated(self, changes: Iterable[Row]) -> Ledgers:
        """New ledgers with `changes` added (see `Ledger.updated`): the same values as
        `Ledgers` over the changed rows, for the work of the changes alone."""
        materialised = list(changes)
        new = copy.copy(self)
        new.by_plan = {}
        for plan_id, ledger in self.by_plan.items():  # predecessors first, as built
            earlier = new.by_plan.get(ledger.plan.derive_baselines_from or "")
            new.by_plan[plan_id] = ledger.updated(materialised, earlier)
        return new

    def __getitem__(self, plan_id: str) -> Ledger:
        return self.by_plan[plan_id]

    def __iter__(self) -> Iterator[Ledger]:
        return iter(self.by_plan.values())


MonthKey = tuple[str, str, date]  # (division, indicator, month)


def differences(old: Mapping[MonthKey, Decimal], new: Mapping[MonthKey, Decimal]) -> list[Row]:
    """What to add to monthly amounts `old` to make them `new` (one row per month that
    differs; a month gone from `new` is taken back whole)."""
    found: list[Row] = []
    for key, amount in new.items():
        before = old.get(key)
        if before != amount:
            found.append((*key, amount if before is None else amount - before))
    found.extend((*key, -amount) for key, amount in old.items() if key not in new)
    return found


ChangedKey = tuple[str, str, str, date]  # (plan, division, indicator, month)


def changed_keys(
    plans: Iterable[Plan], touched: Iterable[tuple[str, str, date]]
) -> set[ChangedKey]:
    """The (plan, division, indicator, month) values a set of deltas changes.

    A delta moves every plan that counts its month (after the baseline month, up to the
    target month), in every division containing its division (its own only for `reported`),
    and the known ratios of those; a delta up to a plan's baseline month moves the plan's
    derived baselines, so all of the plan's months from the first (`month` = its first month).
    """
    touched = list(touched)
    found: set[ChangedKey] = set()
    for plan in plans:
        ledger = Ledger(plan, ())
        ratios: dict[str, list[str]] = defaultdict(list)
        kinds = {spec.key: spec.kind for spec in plan.indicators}
        for spec in plan.indicators:
            if spec.numerator is not None:
                ratios[spec.numerator].append(spec.key)
        for division, indicator, month in touched:
            kind = kinds.get(indicator)
            if kind is None or month > ledger.last_plan_month:
                continue
            if month <= ledger.baseline_month:
                if plan.derive_baselines_from is None:
                    continue
                month = ledger.first_month
            for code in ledger.codes_of(division, kind == "reported"):
                found.add((plan.id, code, indicator, month))
                for ratio in ratios.get(indicator, ()):
                    if ratio_may_be_known(plan, code, indicator):
                        found.add((plan.id, code, ratio, month))
    return found


def plan_pairs(plan: Plan) -> list[tuple[str, str]]:
    """Every (division, indicator) of a plan that may have a value."""
    codes = [plan.city.code, *(d.code for d in plan.districts)]
    return [
        (code, spec.key)
        for code in codes
        for spec in plan.indicators
        if spec.numerator is None or ratio_may_be_known(plan, code, spec.numerator)
    ]


def ratio_may_be_known(plan: Plan, code: str, numerator: str) -> bool:
    """A ratio needs the population and an opening balance (published, or maybe derived)."""
    return plan.population_of(code) is not None and (
        plan.baseline_for(code, numerator) is not None or plan.derive_baselines_from is not None
    )
