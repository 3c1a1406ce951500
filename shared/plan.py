"""The plan as data: the one module that reads and validates a plan file.

A plan file (YAML, e.g. `deploy/plans/chongqing-14th-fyp.yaml`) declares the plan period, the
city, its county-level divisions with their populations, and the indicators with their
baselines, targets and required paths. `load_plan` turns it into frozen pydantic models, or
raises `PlanError` naming the file, the key path and the problem. Pure: pyyaml and pydantic only.

File layout: `plan:` (id, name_zh, document_no, baseline_date, target_date, timezone), `city:`,
`districts:` (a list, in display order) and `indicators:` (a mapping key -> fields, in display
order, where `actuals` and `in_year` are `{values: {"YYYY" | "YYYY-MM": number}, source, note}`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from shared import divisions

__all__ = [
    "PLAN_FILE_ENV",
    "City",
    "District",
    "DistrictKind",
    "Figure",
    "Indicator",
    "IndicatorKind",
    "NationalReference",
    "PathKind",
    "Plan",
    "PlanError",
    "TargetKind",
    "Unit",
    "UnmodelledTarget",
    "default_plan_path",
    "load_plan",
]

PLAN_FILE_ENV = "IPRWATCH_PLAN_FILE"
BUNDLED_PLAN = "deploy/plans/chongqing-14th-fyp.yaml"

# `reported`: an official statistic (a share of GDP, a score, a national total) that no act
# counts; its value is the latest `cn.ipr.statistic.reported` of the (division, period).
IndicatorKind = Literal["stock", "ratio", "cumulative", "cumulative_sum", "annual", "reported"]
COUNTED_KINDS: frozenset[str] = frozenset({"stock", "cumulative", "cumulative_sum", "annual"})
PathKind = Literal["linear", "compound"]
# share: a fraction (0.13 = 13 %); score: points on the survey's scale; cny_100m: 亿元.
Unit = Literal["count", "per_10k_population", "cny", "cny_100m", "share", "score"]
# Any level of GB/T 2260: the districts and counties of a city, the prefectures of a province,
# the provinces of the nation.
DistrictKind = Literal[
    "district",
    "county",
    "autonomous_county",
    "county_level_city",
    "prefecture",
    "autonomous_prefecture",
    "province",
    "municipality",
    "autonomous_region",
]
TargetKind = Literal["expected", "binding"]  # 预期性 / 约束性
PlanState = Literal["upcoming", "in_progress", "ended"]

_DIVISION_CODE = re.compile(r"\d{6}")


def _non_negative(value: float) -> float:
    if value < 0:
        shown = int(value) if value.is_integer() else value
        raise ValueError(f"must be a non-negative number, got {shown}")
    return value


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _as_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value  # pydantic checks that the day exists
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Amount = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_non_negative)]
IndicatorKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
PeriodKey = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")]
PlanDate = Annotated[date, BeforeValidator(_as_date)]
PlanId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
Tolerance = Annotated[float, Field(strict=True, ge=0, lt=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Frozen):
    """A published number and where it comes from; `kind` only for a target (预期性 or 约束性)."""

    value: Amount
    source: Text
    note: str | None = None
    kind: TargetKind | None = None


class NationalReference(_Frozen):
    """The national plan's figures for an indicator: informational only, never a target."""

    baseline: Amount | None = None
    target: Amount | None = None
    source: Text
    note: str | None = None


class UnmodelledTarget(_Frozen):
    """A published target that no indicator of this system measures (no event feeds it)."""

    key: IndicatorKey
    value: Amount
    source: Text
    note: str | None = None


class Indicator(_Frozen):
    """A measured quantity, its citywide baseline and target, and how its required path runs."""

    key: IndicatorKey
    name_zh: Text
    name_en: Text
    kind: IndicatorKind
    unit: Unit
    path: PathKind
    tolerance: Tolerance
    numerator: IndicatorKey | None = None
    baseline: Figure | None = None
    target: Figure | None = None
    national_reference: NationalReference | None = None
    # Figures the path passes through at the end of a year ("YYYY"), between baseline and target.
    milestones: dict[PeriodKey, Figure] = {}
    # Published citywide values ("YYYY" = end of that year, "YYYY-MM" = that month): for backtests.
    actuals: dict[PeriodKey, Amount] = {}
    actuals_source: str | None = None
    actuals_note: str | None = None
    # Published counts of one year's acts that feed the indicator (see in_year_note).
    in_year: dict[PeriodKey, Amount] = {}
    in_year_source: str | None = None
    in_year_note: str | None = None


class District(_Frozen):
    """A county-level division (GB/T 2260 code); population None means unknown, never guessed."""

    code: str
    name_zh: Text
    name_en: Text
    kind: DistrictKind
    population: int | None
    population_source: str | None = Field(default=None, validate_default=True)
    population_checked: Annotated[bool, Field(strict=True)] = False
    population_note: str | None = None
    targets: dict[IndicatorKey, Figure] = {}
    baselines: dict[IndicatorKey, Figure] = {}
    unmodelled_targets: tuple[UnmodelledTarget, ...] = ()

    @field_validator("code", mode="before")
    @classmethod
    def _code_form(cls, value: object) -> object:
        if isinstance(value, str) and _DIVISION_CODE.fullmatch(value):
            return value
        raise ValueError(f"must be a GB/T 2260 code (6 digits, a quoted string), got {value!r}")

    @field_validator("population", mode="before")
    @classmethod
    def _population_form(cls, value: object) -> object:
        if value is None or (type(value) is int and value > 0):
            return value
        raise ValueError(f"must be a positive integer or null, got {value!r}")

    @field_validator("population_source")
    @classmethod
    def _source_given(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("population") is not None and not (value and value.strip()):
            raise ValueError("required when population is given: where does the figure come from?")
        return value


class City(_Frozen):
    """The plan's area (a city, a province, the nation `100000`): the sum of its divisions.

    Its values are never stored separately. Named `City` after the first plans' areas; a plan
    file may call it `area:` (preferred) or `city:`.
    """

    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    name_zh: Text
    name_en: Text
    population: Annotated[int, Field(strict=True, gt=0)] | None = None
    population_source: Text | None = None

    @model_validator(mode="after")
    def _source_given(self) -> Self:
        if self.population is not None and not self.population_source:
            raise ValueError("population_source is required when population is given")
        return self


class Plan(_Frozen):
    """A plan: period, city, divisions, indicators. Lookups take the city code or a district's."""

    id: PlanId
    name_zh: Text
    document_no: Text
    baseline_date: PlanDate
    target_date: PlanDate
    timezone: TimeZoneName
    city: City
    districts: tuple[District, ...]
    indicators: tuple[Indicator, ...]
    # Where this plan publishes no baseline of a division, its baseline is derived: the value
    # of that earlier plan on this plan's baseline date (labelled as derived, never official).
    derive_baselines_from: PlanId | None = None
    # Months after the baseline date in which a shortfall does not alert (too little evidence).
    grace_months: Annotated[int, Field(strict=True, ge=0, le=24)] = 0
    _districts_by_code: dict[str, District] = PrivateAttr(default_factory=dict)
    _indicators_by_key: dict[str, Indicator] = PrivateAttr(default_factory=dict)
    _district_codes: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = _consistency_problems(self)
        if problems:
            raise _Inconsistent(problems)
        self._districts_by_code = {d.code: d for d in self.districts}
        self._indicators_by_key = {i.key: i for i in self.indicators}
        self._district_codes = frozenset(self._districts_by_code)
        return self

    @property
    def district_codes(self) -> frozenset[str]:
        return self._district_codes

    @property
    def area(self) -> City:
        """The plan's area (see `City`)."""
        return self.city

    def state(self, on: date) -> PlanState:
        """`upcoming` before the baseline date, `in_progress` until the target date, then `ended`.

        `on` is a calendar date in the plan's time zone (see `today`).
        """
        if on < self.baseline_date:
            return "upcoming"
        if on <= self.target_date:
            return "in_progress"
        return "ended"

    def today(self, now: datetime) -> date:
        """The calendar date of the aware instant `now` in the plan's time zone."""
        return now.astimezone(self.zone).date()

    @property
    def indicator_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.indicators)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_district(self, code: str) -> bool:
        return code in self._districts_by_code

    def district(self, code: str) -> District:
        try:
            return self._districts_by_code[code]
        except KeyError:
            if code == self.city.code:
                why = "that is the city itself (plan.city), not one of its districts"
            else:
                why = "not a division of the plan"
            raise KeyError(f"unknown district code {code!r} in plan {self.id!r}: {why}") from None

    def indicator(self, key: str) -> Indicator:
        try:
            return self._indicators_by_key[key]
        except KeyError:
            raise KeyError(
                f"unknown indicator {key!r}: plan {self.id!r} does not declare it"
            ) from None

    def target_for(self, district_code: str, indicator_key: str) -> Figure | None:
        """The city's target for the city code, a district's own target (or None) for a district."""
        indicator = self.indicator(indicator_key)
        if district_code == self.city.code:
            return indicator.target
        return self.district(district_code).targets.get(indicator_key)

    def baseline_for(self, district_code: str, indicator_key: str) -> Figure | None:
        """The city's baseline for the city code, a district's own baseline (or None)."""
        indicator = self.indicator(indicator_key)
        if district_code == self.city.code:
            return indicator.baseline
        return self.district(district_code).baselines.get(indicator_key)

    def population_of(self, code: str) -> int | None:
        if code == self.city.code:
            return self.city.population
        return self.district(code).population

    def elapsed_fraction(self, on: date) -> float:
        """Share of the plan period elapsed on `on`, by days: 0 at baseline_date, 1 at target_date.

        A datetime counts by its calendar date in the plan's time zone (naive: as given).
        """
        if isinstance(on, datetime):
            on = on.astimezone(self.zone).date() if on.tzinfo is not None else on.date()
        total = (self.target_date - self.baseline_date).days
        return min(1.0, max(0.0, (on - self.baseline_date).days / total))


class PlanError(Exception):
    """A plan file that cannot be used. Each line: `<file>: <key path>: <problem>`."""

    def __init__(self, file: Path | str, problems: Sequence[tuple[str, str]]) -> None:
        self.file = str(file)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems) or (("(document)", "invalid"),)
        super().__init__(
            "\n".join(f"{self.file}: {where}: {what}" for where, what in self.problems)
        )

    def __reduce__(self) -> tuple[type[PlanError], tuple[str, tuple[tuple[str, str], ...]]]:
        return (PlanError, (self.file, self.problems))


def default_plan_path() -> Path:
    """`$IPRWATCH_PLAN_FILE` if set, else the bundled Chongqing plan under the repository root."""
    configured = os.environ.get(PLAN_FILE_ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / BUNDLED_PLAN


def load_plan(path: Path | str) -> Plan:
    """Read, parse and validate a plan file; raise `PlanError` on any problem."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(file, [("(file)", "no such plan file")]) from None
    except UnicodeDecodeError as exc:
        raise PlanError(file, [("(file)", f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise PlanError(file, [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    raw = _parse_yaml(file, text)
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else type(raw).__name__
        problem = f"must be a mapping with keys plan, area, districts, indicators; got {got}"
        raise PlanError(file, [("(document)", problem)])
    try:
        return _PlanFile.model_validate(raw).to_plan()
    except ValidationError as exc:
        raise PlanError(file, _problems_of(exc)) from None


# --- the file's shape -------------------------------------------------------------------------


def _year_keys(value: object) -> object:
    """An unquoted YAML key 2022 is an int: read it as the period "2022"."""
    if isinstance(value, dict):
        return {str(k) if type(k) is int else k: v for k, v in value.items()}
    return value


class _Series(_Frozen):
    values: Annotated[dict[PeriodKey, Amount], BeforeValidator(_year_keys)]
    source: Text
    note: str | None = None


class _PlanHeader(_Frozen):
    id: PlanId
    name_zh: Text
    document_no: Text
    baseline_date: PlanDate
    target_date: PlanDate
    timezone: TimeZoneName
    derive_baselines_from: PlanId | None = None
    grace_months: Annotated[int, Field(strict=True, ge=0, le=24)] = 0


class _IndicatorEntry(_Frozen):
    name_zh: Text
    name_en: Text
    kind: IndicatorKind
    unit: Unit
    path: PathKind
    tolerance: Tolerance
    numerator: IndicatorKey | None = None
    baseline: Figure | None = None
    target: Figure | None = None
    national_reference: NationalReference | None = None
    milestones: Annotated[dict[PeriodKey, Figure], BeforeValidator(_year_keys)] = {}
    actuals: _Series | None = None
    in_year: _Series | None = None

    def to_indicator(self, key: str) -> Indicator:
        actuals, in_year = self.actuals, self.in_year
        return Indicator(
            key=key,
            **{name: value for name, value in self if name not in ("actuals", "in_year")},
            actuals=actuals.values if actuals else {},
            actuals_source=actuals.source if actuals else None,
            actuals_note=actuals.note if actuals else None,
            in_year=in_year.values if in_year else {},
            in_year_source=in_year.source if in_year else None,
            in_year_note=in_year.note if in_year else None,
        )


class _PlanFile(_Frozen):
    plan: _PlanHeader
    area: City | None = None
    city: City | None = None  # the first plans' name for the area
    districts: tuple[District, ...]
    indicators: dict[IndicatorKey, _IndicatorEntry]

    @model_validator(mode="after")
    def _one_area(self) -> Self:
        if (self.area is None) == (self.city is None):
            raise ValueError("declare the plan's area once: `area:` (or the older `city:`)")
        return self

    def to_plan(self) -> Plan:
        area = self.area or self.city
        assert area is not None  # noqa: S101 - checked by _one_area
        return Plan(
            **dict(self.plan),
            city=area,
            districts=self.districts,
            indicators=tuple(e.to_indicator(k) for k, e in self.indicators.items()),
        )


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


# --- reading YAML and reporting errors --------------------------------------------------------


class _PlanYamlLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key repeated in a mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(file: str, text: str) -> object:
    loader = _PlanYamlLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = exc.problem or exc.context or "unreadable"
        raise PlanError(file, [(where, f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise PlanError(file, [("(document)", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _problems_of(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _Inconsistent):
            problems += cause.problems
        else:
            problems.append(_problem_of(error, cause))
    return problems


def _problem_of(error: ErrorDetails, cause: object) -> tuple[str, str]:
    where = ""
    prefix = ""
    for part in error["loc"]:
        if part == "[key]":
            prefix = "invalid key: "
        elif isinstance(part, int):
            where += f"[{part}]"
        else:
            where += f".{part}" if where else part
    if error["type"] == "missing":
        what = "required key is missing"
    elif error["type"] == "extra_forbidden":
        what = "unknown key"
    elif error["type"] == "value_error" and cause is not None:
        what = str(cause)
    else:
        shown = repr(error["input"])
        what = f"{error['msg']}, got {shown if len(shown) <= 80 else shown[:77] + '...'}"
    return (where or "(document)", prefix + what)
