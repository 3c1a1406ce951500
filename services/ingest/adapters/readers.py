"""Reading an export row by row, never the whole file: Excel, CSV (UTF-8 or GB18030), NDJSON.

- `.xlsx` with openpyxl in read-only mode (rows streamed from the sheet's XML); `--sheet`
  chooses the sheet (default: the first), the first non-empty row is the header.
- `.csv`: the encoding is detected from the first MiB (UTF-8, with or without a BOM, else
  GB18030, the superset of GBK/GB2312 that Chinese Excel and registry systems write), or given.
- `.ndjson`/`.jsonl`: one JSON object per line, its keys are the columns.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from services.ingest.adapters.mapping_files import mapping_names
from services.ingest.domain.cells import Cell
from services.ingest.domain.rows import Row, csv_rows, ndjson_rows
from services.ingest.service.ports import ReadError, TableRow

SAMPLE_BYTES = 1 << 20
FORMATS = ("xlsx", "csv", "ndjson")


def file_format(path: Path, given: str | None = None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    if suffix == ".xls":
        raise ReadError(f"{path.name}: the old .xls format is not read; save it as .xlsx in Excel")
    raise ReadError(f"cannot tell the format of {path.name}: pass --format xlsx|csv|ndjson")


def detect_encoding(path: Path) -> str:
    """`utf-8-sig` when the first MiB decodes as UTF-8 (a cut last character is fine), else
    `gb18030`."""
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


@contextmanager
def open_text(path: Path, encoding: str | None = None) -> Iterator[TextIO]:
    chosen = encoding or detect_encoding(path)
    try:
        with path.open(encoding=chosen, newline="") as stream:
            yield stream
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{path.name} is not {chosen} throughout (byte {exc.start} of a later block): "
            "pass --encoding utf-8 or --encoding gb18030"
        ) from None


def count_rows(path: Path, fmt: str, sheet: str | None = None) -> int | None:
    """The number of data rows for the progress bar (a fast pass over the bytes), or None."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet_rows = _sheet(book, sheet, path).max_row
        finally:
            book.close()
        return max(sheet_rows - 1, 0) if sheet_rows else None
    with path.open("rb") as stream:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(SAMPLE_BYTES), b""))
    return max(lines - (1 if fmt == "csv" else 0), 0)


def table_rows(
    path: Path, fmt: str, sheet: str | None = None, encoding: str | None = None
) -> Iterator[tuple[list[str], Iterator[TableRow]]]:
    """Yields once: the header and an iterator of the rows (a generator keeps the file open)."""
    if fmt == "xlsx":
        yield from _xlsx(path, sheet)
    elif fmt == "csv":
        with open_text(path, encoding) as stream:
            yield from _csv(stream)
    else:
        with open_text(path, encoding) as stream:
            yield [], _ndjson(stream)


def _csv(stream: IO[str]) -> Iterator[tuple[list[str], Iterator[TableRow]]]:
    reader = csv.reader(stream)
    header: list[str] = []
    for cells in reader:
        if any(c.strip() for c in cells):
            header = [c.strip() for c in cells]
            break

    def rows() -> Iterator[TableRow]:
        width = len(header)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            problem = None
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                problem = "the row has more cells than the header has columns"
            yield TableRow(reader.line_num, dict(zip(header, cells, strict=False)), problem)

    yield header, rows()


def _ndjson(stream: IO[str]) -> Iterator[TableRow]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            parsed: Any = json.loads(line)
        except ValueError as exc:
            yield TableRow(number, {}, f"malformed JSON: {exc}")
            continue
        if not isinstance(parsed, dict):
            yield TableRow(number, {}, "a line must hold one JSON object")
            continue
        yield TableRow(number, {str(k): _json_cell(v) for k, v in parsed.items()})


def _json_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False)


def _sheet(book: Any, name: str | None, path: Path) -> Any:
    if name is None:
        return book.worksheets[0]
    if name.isdigit() and name not in book.sheetnames:
        index = int(name) - 1
        if 0 <= index < len(book.worksheets):
            return book.worksheets[index]
    if name not in book.sheetnames:
        raise ReadError(
            f"{path.name} has no sheet {name!r}; its sheets: {', '.join(book.sheetnames)}"
        )
    return book[name]


def _xlsx(path: Path, sheet: str | None) -> Iterator[tuple[list[str], Iterator[TableRow]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ReadError(f"{path.name} is not a readable .xlsx workbook: {exc}") from None
    try:
        values = _sheet(book, sheet, path).iter_rows(values_only=True)
        header: list[str] = []
        number = 0
        for cells in values:
            number += 1
            if any(c is not None and str(c).strip() for c in cells):
                header = ["" if c is None else str(c).strip() for c in cells]
                break

        def rows() -> Iterator[TableRow]:
            line = number
            for cells in values:
                line += 1
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                yield TableRow(line, {h: c for h, c in zip(header, cells, strict=False) if h})

        yield header, rows()
    finally:
        book.close()


@dataclass(frozen=True)
class ExportReader:
    """One export file as the importer reads it (the `ExportFile` port)."""

    path: Path
    kind: str | None = None
    sheet: str | None = None
    encoding: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def format(self) -> str:
        return file_format(self.path, self.kind)

    def count_rows(self) -> int | None:
        return count_rows(self.path, self.format, self.sheet)

    def events(self) -> Iterator[Row]:
        fmt = self.format
        if fmt == "xlsx":
            raise ReadError("an Excel file needs a mapping: pass --mapping NAME "
                            f"(shipped: {', '.join(mapping_names())})")  # fmt: skip
        with open_text(self.path, self.encoding) as stream:
            yield from (csv_rows(stream) if fmt == "csv" else ndjson_rows(stream))

    def tables(self) -> Iterator[tuple[list[str], Iterator[TableRow]]]:
        return table_rows(self.path, self.format, self.sheet, self.encoding)
