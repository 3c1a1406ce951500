"""The plan as frozen pydantic models: its indicators, divisions, area, and the `Plan` with its
lookups (targets, baselines, populations) and its calendar (state, elapsed fraction).
Built only by `shared.plan.loading.load_plan`, which checks it across keys first (`checks`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.plan.checks import _consistency_problems, _Inconsistent
from shared.plan.types import (
    _DIVISION_CODE,
    Amount,
    DistrictKind,
    IndicatorKey,
    IndicatorKind,
    PathKind,
    PeriodKey,
    PlanDate,
    PlanId,
    PlanState,
    TargetKind,
    Text,
    TimeZoneName,
    Tolerance,
    Unit,
)


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
