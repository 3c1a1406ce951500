"""Rows of a registry's export (CSV or NDJSON) as raw CloudEvents, ready for the ingest API.

CSV: one column per attribute (`id`, `source`, `type`, `subject`, `time`; `specversion`
defaults to 1.0) and one per `data` field, named `data.<field>` (e.g. `data.district`,
`data.high_value`); empty cells are left out. A `data` column may instead hold the JSON object.
NDJSON: one structured-mode event (a JSON object) per line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from shared.events import DATA_MODELS, SPEC_VERSION

DATA_PREFIX = "data."


@dataclass(frozen=True)
class Row:
    """One row of the export: where it was, what it said, and the event (or why there is none)."""

    line: int
    text: str
    event: dict[str, Any] | None
    problem: str | None = None


def csv_rows(stream: TextIO) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    for record in reader:
        text = json.dumps(record, ensure_ascii=False)
        try:
            yield Row(reader.line_num, text, _event_of_record(record))
        except ValueError as exc:
            yield Row(reader.line_num, text, None, str(exc))


def _typed(event_type: Any, field: str, cell: str) -> Any:
    """A `data.<field>` cell as the JSON type its field has in the contract (a CSV cell is text;
    the contract takes `true`, `5`, not `"true"`, `"5"`); left as text when it is not one."""
    model = DATA_MODELS.get(event_type) if isinstance(event_type, str) else None
    info = model.model_fields.get(field) if model is not None else None
    kind = info.annotation if info is not None else None
    text = cell.strip()
    if kind is bool:
        return {"true": True, "false": False}.get(text.lower(), cell)
    if kind in (int, float):
        try:
            number = json.loads(text)
        except ValueError:
            return cell
        return number if isinstance(number, int | float) and not isinstance(number, bool) else cell
    return cell


def _event_of_record(record: dict[str | Any, str | Any]) -> dict[str, Any]:
    if None in record:
        raise ValueError("the row has more cells than the header has columns")
    event: dict[str, Any] = {"specversion": SPEC_VERSION}
    data: dict[str, Any] = {}
    for column, cell in record.items():
        if cell is None or cell == "":
            continue
        name = str(column).strip()
        if name == "data":
            parsed = json.loads(cell)
            if not isinstance(parsed, dict):
                raise ValueError("the data column must hold a JSON object")
            data.update(parsed)
        elif name.startswith(DATA_PREFIX):
            field = name[len(DATA_PREFIX) :]
            data[field] = _typed(record.get("type"), field, cell)
        else:
            event[name] = cell
    event["data"] = data
    return event


def ndjson_rows(stream: TextIO) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        text = line.rstrip("\n")
        if not text.strip():
            continue
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            yield Row(number, text, None, f"malformed JSON: {exc}")
            continue
        if not isinstance(parsed, dict):
            yield Row(number, text, None, "a line must hold one event, a JSON object")
            continue
        yield Row(number, text, parsed)
