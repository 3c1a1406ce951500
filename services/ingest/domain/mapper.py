"""Rows to contract events through one mapping: the division a row gives, its events, their ids.

The id is a UUID 5 of the mapping's `id_from` parts (by default the type, the subject and the
date): the same row always gives the same id, so re-importing a file is all duplicates, and the
fold counts each act once. Pure: pydantic only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from services.ingest.domain.cells import (
    Record,
    cell_text,
    convert,
    first_filled,
    parse_date,
    period_end,
)
from services.ingest.domain.mapping import EventRule, ImportMapping
from shared.events import DATA_MODELS, SPEC_VERSION

ID_NAMESPACE = uuid.UUID("6f1c3e1e-4a57-5d3a-9c55-2a1b1f0e7c21")  # the importer's own namespace


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
                "specversion": SPEC_VERSION,
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
                    data[name] = convert(field.kind, field.map[text], name)
                else:
                    data[name] = convert(field.kind, raw if field.kind != "text" else text, name)
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
