"""Import mappings: how a registry's export (Excel, CSV, NDJSON rows) becomes contract events.

A mapping is data (`deploy/imports/*.yaml`), validated here with pydantic; a bad file fails
naming the file, the key and the problem (`MappingError`). It says which column is the subject,
where the holder's division comes from (a code, a division name, or an address resolved by the
caller), which date column makes which event type under which condition, how cells become
`data` fields (value maps, kinds), the `source`, and which parts make the deterministic id.
Applying it to rows is `mapper.Mapper`; reading a cell, `cells`. Pure: pyyaml and pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from services.ingest.domain.cells import Kind, Record, cell_text, first_filled
from shared.events import DATA_MODELS


def _columns(value: object) -> object:
    """A column or a list of columns (the first filled one counts)."""
    return [value] if isinstance(value, str) else value


Columns = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_columns)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(_Strict):
    """When a rule applies: the cell is one of `in`, matches `matches`, or is `filled`."""

    column: str
    in_: list[str] | None = Field(default=None, alias="in")
    matches: str | None = None
    filled: bool | None = None

    @field_validator("matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        if sum(x is not None for x in (self.in_, self.matches, self.filled)) != 1:
            raise ValueError("give exactly one of `in`, `matches`, `filled`")
        return self

    def holds(self, record: Record) -> bool:
        text = cell_text(record.get(self.column))
        if self.filled is not None:
            return (text != "") == self.filled
        if self.in_ is not None:
            return text in self.in_
        return re.search(self.matches or "", text) is not None


class FieldRule(_Strict):
    """One `data` field: a constant `value`, or a cell (`column`) through `map` and `kind`."""

    column: Columns | None = None
    value: str | int | float | bool | None = None
    map: dict[str, str | int | float | bool] | None = None
    kind: Kind = "text"
    default: str | int | float | bool | None = None
    required: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: object) -> object:
        return {"column": raw} if isinstance(raw, str) else raw

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either `column` or `value`")
        return self


class SubjectRule(_Strict):
    """The right's number: the first filled column, prefixes removed, then `prefix` added."""

    column: Columns
    remove_prefixes: list[str] = []
    prefix: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: object) -> object:
        return {"column": raw} if isinstance(raw, str | list) else raw

    def of(self, record: Record) -> str | None:
        text = first_filled(record, self.column)
        if not text:
            return None
        text = re.sub(r"\s+", "", text).upper()
        for prefix in self.remove_prefixes:
            if text.startswith(prefix.upper()):
                text = text[len(prefix) :]
                break
        return self.prefix + text


class DistrictRule(_Strict):
    """Where the holder's division comes from, in this order: a code, a division name, an
    address (resolved to a county-level division by the importer)."""

    code: Columns = []
    name: Columns = []
    address: Columns = []

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not (self.code or self.name or self.address):
            raise ValueError("give at least one of `code`, `name`, `address`")
        return self


class EventRule(_Strict):
    """One event type a row may make: its date column(s), condition and `data` fields."""

    type: str
    date: Columns = []
    date_fallback: Literal["period_end"] | None = None
    when: list[Condition] = []
    data: dict[str, FieldRule] = {}

    @field_validator("type")
    @classmethod
    def _contract_type(cls, value: str) -> str:
        if value not in DATA_MODELS:
            raise ValueError(f"unknown event type {value!r}: not a type of the contract")
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> Self:
        model = DATA_MODELS[self.type]
        known = set(model.model_fields) - {"district"}
        for name in self.data:
            if name not in known:
                raise ValueError(
                    f"{self.type} has no data field {name!r} (it has: {', '.join(sorted(known))})"
                )
        if not self.date and self.date_fallback is None:
            raise ValueError("give the `date` column(s) of the act, or a `date_fallback`")
        if self.date_fallback == "period_end" and "period" not in self.data:
            raise ValueError("date_fallback period_end needs a `period` data field")
        return self


IdPart = Annotated[str, Field(pattern=r"^(type|subject|date|district|data\.[a-z_]+)$")]


class ImportMapping(_Strict):
    """An export layout: the file `deploy/imports/<name>.yaml`."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title_zh: str
    description: str = ""
    source: Annotated[str, Field(min_length=1, max_length=256)]
    timezone: str = "Asia/Shanghai"
    subject: SubjectRule | None = None
    district: DistrictRule
    events: Annotated[list[EventRule], Field(min_length=1)]
    id_from: Annotated[list[IdPart], Field(min_length=1)] = ["type", "subject", "date"]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _subject_when_needed(self) -> Self:
        for index, rule in enumerate(self.events):
            if DATA_MODELS[rule.type].needs_subject and self.subject is None:
                raise ValueError(f"events.{index}: {rule.type} needs a `subject` rule")
        return self

    def columns(self) -> list[Columns]:
        """Every group of alternative columns the mapping reads (one of each must exist)."""
        groups: list[Columns] = []
        if self.subject is not None:
            groups.append(self.subject.column)
        district = [*self.district.code, *self.district.name, *self.district.address]
        groups.append(district)
        for rule in self.events:
            if rule.date:
                groups.append(rule.date)
            groups.extend([c.column] for c in rule.when)
            groups.extend(f.column for f in rule.data.values() if f.column is not None)
        return groups

    def missing_columns(self, header: Sequence[str]) -> list[str]:
        """The column groups of which the header has none, for a readable refusal."""
        present = set(header)
        return [" / ".join(group) for group in self.columns() if not present & set(group)]


class MappingError(Exception):
    """A mapping file is not valid: names the file and each key with its problem."""

    def __init__(self, file: Path | str, problems: Sequence[tuple[str, str]]) -> None:
        self.file = str(file)
        self.problems = list(problems)
        lines = "\n".join(f"  {key}: {problem}" for key, problem in self.problems)
        super().__init__(f"invalid import mapping {self.file}:\n{lines}")


def parse_mapping(text: str, file: Path | str) -> ImportMapping:
    """Validate the YAML text of mapping `file`; raise `MappingError` naming file, key and
    problem."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise MappingError(file, [("(yaml)", str(exc).replace("\n", " "))]) from None
    if not isinstance(raw, dict):
        raise MappingError(file, [("(top)", "must be a mapping of keys to values")])
    try:
        return ImportMapping.model_validate(raw)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in e["loc"]) or "(top)", e["msg"].removeprefix("Value error, "))
            for e in exc.errors(include_url=False)
        ]
        raise MappingError(file, problems) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice (the second would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
