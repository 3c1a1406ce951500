"""Reading exports as streams: Excel sheets, CSV in UTF-8 (with or without BOM) or GB18030."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.ingest.adapters.readers import (
    count_rows,
    detect_encoding,
    file_format,
    table_rows,
)
from services.ingest.domain.cells import Cell
from services.ingest.service.ports import ReadError

HEADER = ["申请号", "法律状态", "申请人地址"]
ROWS = [
    ["202210987654.3", "未缴年费专利权终止", "重庆市沙坪坝区"],
    ["201510111111.1", "专利权有效期届满", "重庆市万州区"],
]  # noqa: E501


def read(
    path: Path, fmt: str, sheet: str | None = None
) -> tuple[list[str], list[tuple[int, dict[str, Cell]]]]:  # noqa: E501
    for header, rows in table_rows(path, fmt, sheet):
        return header, [(r.line, r.cells) for r in rows]
    raise AssertionError("no table")


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("gb18030", "gb18030"), ("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig")],
)  # noqa: E501
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    file = tmp_path / "status.csv"
    with file.open("w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows([HEADER, [], *ROWS])
    assert detect_encoding(file) == detected
    header, rows = read(file, "csv")
    assert header == HEADER
    assert rows == [(3, dict(zip(HEADER, ROWS[0], strict=True))),
                    (4, dict(zip(HEADER, ROWS[1], strict=True)))]  # fmt: skip
    assert count_rows(file, "csv") == 3  # lines minus the header: a progress estimate


def test_an_excel_sheet_is_read_by_name_or_number(tmp_path: Path) -> None:
    book = Workbook()
    notes = book.worksheets[0]
    notes.title = "说明"
    notes.append(["这是说明页"])
    data = book.create_sheet("数据")
    data.append([])
    data.append([*HEADER, "日期"])
    data.append([*ROWS[0], datetime(2024, 3, 15)])
    data.append([None, None, None, None])
    data.append([*ROWS[1], 20240601])
    file = tmp_path / "status.xlsx"
    book.save(file)
    for sheet in ("数据", "2"):
        header, rows = read(file, "xlsx", sheet)
        assert header == [*HEADER, "日期"]
        assert [line for line, _ in rows] == [3, 5]
        assert rows[0][1]["日期"] == datetime(2024, 3, 15)
        assert rows[1][1]["日期"] == 20240601
    with pytest.raises(ReadError, match="has no sheet '统计'; its sheets: 说明, 数据"):
        read(file, "xlsx", "统计")


def test_formats_from_the_extension(tmp_path: Path) -> None:
    assert [file_format(Path(n)) for n in ("a.XLSX", "b.csv", "c.jsonl")] == [
        "xlsx",
        "csv",
        "ndjson",
    ]  # noqa: E501
    with pytest.raises(ReadError, match="save it as .xlsx"):
        file_format(Path("old.xls"))
