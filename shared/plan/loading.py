"""Reading a plan file: YAML without repeated keys, the file's shape (which differs from the
model in places: `actuals` as a series, `area` or the older `city`), and `PlanError` naming
the file, the key path and the problem."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from shared.plan.checks import _Inconsistent
from shared.plan.model import City, District, Figure, Indicator, NationalReference, Plan, _Frozen
from shared.plan.types import (
    Amount,
    IndicatorKey,
    IndicatorKind,
    PathKind,
    PeriodKey,
    PlanDate,
    PlanId,
    Text,
    TimeZoneName,
    Tolerance,
    Unit,
)

PLAN_FILE_ENV = "IPRWATCH_PLAN_FILE"
BUNDLED_PLAN = "deploy/plans/chongqing-14th-fyp.yaml"


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
    return Path(__file__).resolve().parents[2] / BUNDLED_PLAN


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
