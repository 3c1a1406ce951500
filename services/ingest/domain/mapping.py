"""Import mappings: how a registry's export (Excel, CSV, NDJSON rows) becomes contract events.

A mapping is data (`deploy/imports/*.yaml`), validated here with pydantic; a bad file fails
naming the file, the key and the problem (`MappingError`). It says which column is the subject,
where the holder's division comes from (a code, a division name, or an address resolved by the
caller), which date column makes which event type under which condition, how cells become
`data` fields (value maps, kinds), the `source`, and which parts make the deterministic id.

The id is a UUID 5 of the mapping's `id_from` parts (by default the type, the subject and the
date): the same row always gives the same id, so re-importing a file is all duplicates, and the
fold counts each act once. Pure: pyyaml and pydantic only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
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

from shared.events import DATA_MODELS

Cell = str | int | float | bool | date | datetime | None
Record = Mapping[str, Cell]
ID_NAMESPACE = uuid.UUID("6f1c3e1e-4a57-5d3a-9c55-2a1b1f0e7c21")  # the importer's own namespace
EXCEL_EPOCH = date(1899, 12, 30)


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


Kind = Literal["text", "bool", "number", "integer", "period"]


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


def load_mapping(path: Path | str) -> ImportMapping:
    """Read and validate one mapping file; raise `MappingError` naming file, key and problem."""
    file = Path(path)
    try:
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except OSError as exc:
        raise MappingError(file, [("(file)", exc.strerror or str(exc))]) from None
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


# --- cells -----------------------------------------------------------------------------------


def cell_text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious `.0`, dates as ISO, blanks as ''."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


def first_filled(record: Record, columns: Sequence[str]) -> str:
    for column in columns:
        text = cell_text(record.get(column))
        if text:
            return text
    return ""


_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_PERIOD = re.compile(r"(?P<y>\d{4})\s*年?(?:\s*[-/.]?\s*(?P<m>\d{1,2})\s*月?)?")


def parse_date(cell: Cell) -> date:
    """A date from Excel (a date or a serial number) or text: 2023-05-12, 2023/5/12, 2023.5.12,
    20230512, 2023年5月12日 (a time after it is ignored). Raises ValueError."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool) and 1 <= cell < 2958466:
        if 19000000 <= cell <= 21001231:  # 20230512 as a number
            return parse_date(str(int(cell)))
        return EXCEL_EPOCH + timedelta(days=int(cell))
    text = cell_text(cell)
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    return date(int(match["y"]), int(match["m"]), int(match["d"]))


def parse_period(cell: Cell) -> str:
    """A period `YYYY` or `YYYY-MM` from 2023, '2023年', '2023-06', '2023年6月', a date (month)."""
    if isinstance(cell, datetime | date):
        return f"{cell.year:04d}-{cell.month:02d}"
    text = cell_text(cell)
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValueError(f"not a year or a month: {text!r}")
    if match["m"] is None:
        return match["y"]
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {text!r}")
    return f"{match['y']}-{month:02d}"


def period_end(period: str) -> date:
    year, _, month = period.partition("-")
    if not month:
        return date(int(year), 12, 31)
    first_of_next = date(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


_TRUE = {"true", "1", "yes", "y", "是", "有", "√", "✓", "y1"}
_FALSE = {"false", "0", "no", "n", "否", "无", "×", ""}


def _convert(kind: Kind, value: Any, name: str) -> Any:
    if kind == "text" or not isinstance(value, str):
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        if kind == "period" and not isinstance(value, str):
            return parse_period(value)
        return value
    text = value.strip()
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{name}: not a yes/no value: {text!r}")
    if kind == "period":
        return parse_period(text)
    cleaned = text.replace(",", "").replace("，", "").removesuffix("%")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{name}: not a number: {text!r}") from None
    if kind == "integer":
        if not number.is_integer():
            raise ValueError(f"{name}: not a whole number: {text!r}")
        return int(number)
    return number


# --- rows to events --------------------------------------------------------------------------


class RowProblem(ValueError):
    """A row the mapping cannot turn into events; `reason` is a short label for the summary."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


class DistrictInput(BaseModel):
    """What a row says about its division, before the importer resolves it."""

    model_config = ConfigDict(frozen=True)

    code: str = ""
    name: str = ""
    address: str = ""


class Mapper:
    """Applies one mapping to rows. `district_of_name` maps a division's name to its code."""

    def __init__(self, mapping: ImportMapping, district_of_name: Mapping[str, str]) -> None:
        self.mapping = mapping
        self.zone = ZoneInfo(mapping.timezone)
        self.names = dict(district_of_name)

    def district_input(self, record: Record) -> DistrictInput:
        rule = self.mapping.district
        return DistrictInput(
            code=first_filled(record, rule.code),
            name=first_filled(record, rule.name),
            address=first_filled(record, rule.address),
        )

    def known_district(self, given: DistrictInput) -> str | None:
        """The code when the row gives one or names a division; None: resolve the address."""
        if given.code:
            return given.code
        if given.name:
            code = self.names.get(given.name.strip())
            if code is None:
                problem = f"{given.name!r} is not the name of a division of the plan"
                raise RowProblem("unknown_district_name", problem)
            return code
        if not given.address:
            raise RowProblem("no_district", "the row gives no division code, name or address")
        return None

    def events(self, record: Record, district: str) -> list[dict[str, Any]]:
        """The row's events (maybe none: no rule applies); raises `RowProblem`."""
        subject = self.mapping.subject.of(record) if self.mapping.subject else None
        events: list[dict[str, Any]] = []
        for rule in self.mapping.events:
            if not all(condition.holds(record) for condition in rule.when):
                continue
            if DATA_MODELS[rule.type].needs_subject and not subject:
                raise RowProblem("no_subject", f"no right number in {self._subject_columns()}")
            data = {"district": district, **self._data(rule, record)}
            day = self._date(rule, record, data)
            event: dict[str, Any] = {
                "specversion": "1.0",
                "id": self._id(rule.type, subject, day, data),
                "source": self.mapping.source,
                "type": rule.type,
                "time": datetime.combine(day, time(), self.zone).isoformat(),
                "data": data,
            }
            if subject and DATA_MODELS[rule.type].needs_subject:
                event["subject"] = subject
            events.append(event)
        return events

    def _subject_columns(self) -> str:
        return " / ".join(self.mapping.subject.column) if self.mapping.subject else "(none)"

    def _data(self, rule: EventRule, record: Record) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, field in rule.data.items():
            if field.column is None:
                data[name] = field.value
                continue
            text = first_filled(record, field.column)
            raw = next((record.get(c) for c in field.column if cell_text(record.get(c))), None)
            if not text:
                if field.required:
                    raise RowProblem("missing_value", f"{' / '.join(field.column)} is empty")
                if field.default is not None:
                    data[name] = field.default
                continue
            try:
                if field.map is not None:
                    if text not in field.map:
                        if field.default is None:
                            raise RowProblem("unmapped_value",
                                             f"{' / '.join(field.column)}: {text!r} is not in "
                                             f"the map of data.{name}")  # fmt: skip
                        data[name] = field.default
                        continue
                    data[name] = _convert(field.kind, field.map[text], name)
                else:
                    data[name] = _convert(field.kind, raw if field.kind != "text" else text, name)
            except RowProblem:
                raise
            except ValueError as exc:
                raise RowProblem("bad_value", f"{' / '.join(field.column)}: {exc}") from None
        return data

    def _date(self, rule: EventRule, record: Record, data: Mapping[str, Any]) -> date:
        raw = next((record.get(c) for c in rule.date if cell_text(record.get(c))), None)
        if raw is None:
            if rule.date_fallback == "period_end" and isinstance(data.get("period"), str):
                return period_end(data["period"])
            raise RowProblem("no_date", f"{' / '.join(rule.date)} is empty ({rule.type})")
        try:
            return parse_date(raw)
        except ValueError as exc:
            raise RowProblem("bad_date", f"{' / '.join(rule.date)}: {exc}") from None

    def _id(self, event_type: str, subject: str | None, day: date, data: Mapping[str, Any]) -> str:
        parts: list[str] = []
        for part in self.mapping.id_from:
            if part == "type":
                parts.append(event_type)
            elif part == "subject":
                parts.append(subject or "")
            elif part == "date":
                parts.append(day.isoformat())
            elif part == "district":
                parts.append(str(data["district"]))
            else:
                parts.append(cell_text(data.get(part.removeprefix("data."))))
        return str(uuid.uuid5(ID_NAMESPACE, "\x1f".join(parts)))
