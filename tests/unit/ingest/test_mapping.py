"""Import mappings: the shipped files are valid, bad ones name file, key and problem, and rows
become the expected events with deterministic ids."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from services.ingest.adapters.mapping_files import IMPORTS_DIR, load_mapping, mapping_names
from services.ingest.domain.cells import parse_date, parse_period, period_end
from services.ingest.domain.mapper import Mapper, RowProblem
from services.ingest.domain.mapping import MappingError

NAMES = {"500112": "渝北区"}


def test_the_shipped_mappings_load() -> None:
    assert mapping_names() == [
        "cnipa-patent-grants", "cnipa-patent-legal-status", "trademark-registrations",
        "yearly-statistics",
    ]  # fmt: skip
    for name in mapping_names():
        assert load_mapping(IMPORTS_DIR / f"{name}.yaml").name == name


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("events: [{type: cn.ipr.patent.utility.granted, date: d}]", "events.0.type",
         "unknown event type 'cn.ipr.patent.utility.granted': not a type of the contract"),
        ("events: [{type: cn.ipr.patent.invention.granted, date: d, data: {colour: c}}]",
         "events.0", "cn.ipr.patent.invention.granted has no data field 'colour' "
         "(it has: high_value)"),
        ("events: [{type: cn.ipr.trademark.registered, date: d}]", "(top)",
         "events.0: cn.ipr.trademark.registered needs a `subject` rule"),
        ("subject: s\nevents: [{type: cn.ipr.trademark.registered}]", "events.0",
         "give the `date` column(s) of the act, or a `date_fallback`"),
        ("subject: s\nevents: [{type: cn.ipr.trademark.registered, date: d, "
         "when: {column: c, matches: '('}}]", "events.0.when.0.matches",
         "not a regular expression: missing ), unterminated subpattern at position 0"),
        ("subject: s\nsubject: t\nevents: []", "(yaml)", "key 'subject' given twice"),
    ],
)  # fmt: skip
def test_a_bad_mapping_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(f"name: bad\ntitle_zh: 坏\nsource: /x\ndistrict: {{code: c}}\n{text}\n")
    with pytest.raises(MappingError) as caught:
        load_mapping(file)
    assert caught.value.file == str(file)
    assert any(k == key and problem in p for k, p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    "cell",
    ["2023-05-12", "2023/5/12", "2023.05.12", "20230512", "2023年5月12日", "2023-05-12 08:30:00",
     20230512, 45058, datetime(2023, 5, 12, 10), date(2023, 5, 12)],
)  # fmt: skip
def test_dates_in_the_forms_exports_write(cell: str | int | date) -> None:
    assert parse_date(cell) == date(2023, 5, 12)


def test_periods_and_their_ends() -> None:
    assert [parse_period(c) for c in (2023, "2023年", "2023-6", "2023年06月", 2023.0)] == [
        "2023", "2023", "2023-06", "2023-06", "2023"]  # fmt: skip
    assert (period_end("2023"), period_end("2024-02"), period_end("2023-12")) == (
        date(2023, 12, 31), date(2024, 2, 29), date(2023, 12, 31))  # fmt: skip
    with pytest.raises(ValueError, match="not a month"):
        parse_period("2023-13")


def test_a_grant_row_makes_one_event_with_a_deterministic_id() -> None:
    mapper = Mapper(load_mapping(IMPORTS_DIR / "cnipa-patent-grants.yaml"), NAMES)
    row = {"申请号": "CN 202310123456.7", "专利类型": "发明", "授权公告日": "2023/5/12",
           "申请人地址": "重庆市渝北区", "高价值": "是"}  # fmt: skip
    [event] = mapper.events(row, "500112")
    assert {k: v for k, v in event.items() if k != "id"} == {
        "specversion": "1.0", "source": "/registries/cnipa/patents",
        "type": "cn.ipr.patent.invention.granted", "subject": "ZL202310123456.7",
        "time": "2023-05-12T00:00:00+08:00", "data": {"district": "500112", "high_value": True},
    }  # fmt: skip
    again = mapper.events({**row, "申请号": "ZL202310123456.7", "申请人": "changed"}, "500112")
    assert again[0]["id"] == event["id"]  # same type, subject and date: the same id
    later = mapper.events({**row, "授权公告日": "2023-05-13"}, "500112")
    assert later[0]["id"] != event["id"]
    assert mapper.events({**row, "申请号": "202320123456.1"}, "500112") == []  # utility model


def test_row_problems_carry_a_reason() -> None:
    mapper = Mapper(load_mapping(IMPORTS_DIR / "yearly-statistics.yaml"), NAMES)
    given = mapper.district_input({"区县": "重庆市"})
    with pytest.raises(RowProblem) as caught:
        mapper.known_district(given)
    assert (caught.value.reason, caught.value.problem) == (
        "unknown_district_name",
        "'重庆市' is not the name of a division of the plan",
    )
    row = {"区县": "渝北区", "年份": "2022", "专利密集型产业增加值占GDP比重(%)": "n/a"}
    with pytest.raises(RowProblem) as caught:
        mapper.events(row, "500112")
    assert caught.value.reason == "bad_value"


def test_missing_columns_are_named() -> None:
    mapping = load_mapping(IMPORTS_DIR / "trademark-registrations.yaml")
    missing = mapping.missing_columns(["注册号", "申请人地址", "商品类别", "商标类型", "商标状态"])
    assert missing == ["注册日期", "注销日期"]
