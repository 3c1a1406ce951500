"""Checks of a plan across its keys (dates, divisions of the area, indicators, milestones),
each problem with its key path as in the file."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from shared import divisions

if TYPE_CHECKING:
    from shared.plan.model import Indicator, Plan


# --- checks across keys: key paths as in the file ------------------------------------------------


class _Inconsistent(ValueError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems


def _consistency_problems(plan: Plan) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    add = problems.append
    if plan.target_date <= plan.baseline_date:
        add(("plan.target_date", f"must be after {plan.baseline_date}, got {plan.target_date}"))
    for label, day in (("baseline_date", plan.baseline_date), ("target_date", plan.target_date)):
        if (day + timedelta(days=1)).day != 1:
            add((f"plan.{label}", f"must be the last day of a month, got {day}"))
    if plan.derive_baselines_from == plan.id:
        add(("plan.derive_baselines_from", "names the plan itself: name an earlier plan"))
    area = plan.city
    if (problem := divisions.problem_of(area.code, area.name_zh)) is not None:
        add(("area.code", problem))
    for field, items in (("districts", plan.districts), ("indicators", plan.indicators)):
        if not items:
            add((field, "must declare at least one"))
    indicators: dict[str, Indicator] = {}
    for indicator in plan.indicators:
        if indicator.key in indicators:
            add((f"indicators.{indicator.key}", "duplicate indicator key"))
        indicators.setdefault(indicator.key, indicator)
    for indicator in indicators.values():
        problems += _indicator_problems(indicator, indicators)
        for year in indicator.milestones:
            if len(year) == 4 and not plan.baseline_date.year < int(year) < plan.target_date.year:
                add((f"indicators.{indicator.key}.milestones.{year}", _MILESTONE_IN_PERIOD))
    first_index: dict[str, int] = {}
    for i, district in enumerate(plan.districts):
        where = f"districts[{i}]"
        if district.code in first_index:
            first = first_index[district.code]
            add(
                (
                    f"{where}.code",
                    f"duplicate district code {district.code!r}, as districts[{first}]",
                )
            )
        elif district.code == area.code or not divisions.within(area.code, district.code):
            add((f"{where}.code", f"{district.code} is not a division of the area {area.code}"))
        elif (problem := divisions.problem_of(district.code, district.name_zh)) is not None:
            add((f"{where}.code", problem))
        first_index.setdefault(district.code, i)
        if district.population_checked and district.population is None:
            add((f"{where}.population_checked", "true, but the population is null"))
        for field, figures in (("targets", district.targets), ("baselines", district.baselines)):
            for key, figure in figures.items():
                known = indicators.get(key)
                if known is None:
                    add((f"{where}.{field}.{key}", f"unknown indicator {key!r}: not declared"))
                elif known.path == "compound" and figure.value <= 0:
                    add((f"{where}.{field}.{key}.value", _COMPOUND_NEEDS_POSITIVE))
        for j, unmodelled in enumerate(district.unmodelled_targets):
            if unmodelled.key in indicators:
                add((f"{where}.unmodelled_targets[{j}].key", "a declared indicator: use targets"))
    return problems


_MILESTONE_IN_PERIOD = "must be a year that ends between the baseline and the target date"
_COMPOUND_NEEDS_POSITIVE = "must be positive: a compound path grows from and to a positive value"


def _indicator_problems(indicator: Indicator, known: dict[str, Indicator]) -> list[tuple[str, str]]:
    where = f"indicators.{indicator.key}"
    problems: list[tuple[str, str]] = []
    add = problems.append
    numerator = indicator.numerator
    if indicator.kind != "ratio":
        if numerator is not None:
            add((f"{where}.numerator", f"only a ratio has one; kind is {indicator.kind!r}"))
    elif numerator is None:
        add((f"{where}.numerator", "a ratio needs a numerator indicator"))
    elif numerator not in known:
        add((f"{where}.numerator", f"unknown indicator {numerator!r}: not declared"))
    elif known[numerator].kind == "ratio":
        add((f"{where}.numerator", f"{numerator!r} is itself a ratio: name a count"))
    if indicator.kind == "ratio" and indicator.unit != "per_10k_population":
        add((f"{where}.unit", f"a ratio is per_10k_population, got {indicator.unit!r}"))
    if indicator.path == "compound":
        for label, figure in (("baseline", indicator.baseline), ("target", indicator.target)):
            if figure is not None and figure.value <= 0:
                add((f"{where}.{label}.value", _COMPOUND_NEEDS_POSITIVE))
    for year in indicator.milestones:
        if len(year) != 4:
            add((f"{where}.milestones.{year}", "a milestone is a year's end: key YYYY"))
        elif indicator.target is None:
            add((f"{where}.milestones.{year}", "a milestone needs the indicator's target"))
    if indicator.actuals and not indicator.actuals_source:
        add((f"{where}.actuals.source", "published values need their source"))
    if indicator.in_year and not indicator.in_year_source:
        add((f"{where}.in_year.source", "published values need their source"))
    return problems
