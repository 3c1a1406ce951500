"""`iprwatch import` without a service: dry runs, refusals that stop the run, readable errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iprwatch.cli import main
from services.ingest.adapters.mapping_files import IMPORTS_DIR

EXAMPLES = IMPORTS_DIR / "examples"


def test_a_dry_run_counts_and_writes_the_rejected_rows_without_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IPRWATCH_TOKEN", raising=False)
    rejected = tmp_path / "rejected.ndjson"
    code = main(["import", str(EXAMPLES / "trademark-registrations.csv"), "--mapping",
                 "trademark-registrations", "--dry-run", "--no-progress", "--url",
                 "http://127.0.0.1:9", "--rejected", str(rejected)])  # fmt: skip
    assert code == 2
    assert json.loads(capsys.readouterr().out) == {
        "rows": 6, "valid": 5, "rejected": 2, "skipped": 0,
        "reasons": {"address_ambiguous": 1, "address_outside_plan": 1},
        "rejected_file": str(rejected),
    }  # fmt: skip
    lines = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert [(e["line"], e["reason"]) for e in lines] == [
        (6, "address_ambiguous"), (7, "address_outside_plan")]  # fmt: skip
    assert json.loads(lines[0]["row"])["注册号"] == "70444444"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mapping", "nope"], "no mapping 'nope'; shipped: cnipa-patent-grants,"),
        ([], "an Excel file needs a mapping: pass --mapping NAME"),
        (["--mapping", "trademark-registrations"],
         "does not fit mapping 'trademark-registrations': no column 注册号"),
        (["--mapping", "cnipa-patent-grants", "--sheet", "统计"], "has no sheet '统计'"),
    ],
)  # fmt: skip
def test_what_stops_an_import_is_said_plainly(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["import", str(EXAMPLES / "cnipa-patent-grants.xlsx"), "--dry-run",
                 "--no-progress", "--rejected", str(tmp_path / "r.ndjson"), *args])  # fmt: skip
    assert code == 1
    assert message in " ".join(capsys.readouterr().err.split())


def test_a_bad_mapping_file_stops_the_import_naming_file_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle_zh: 坏\nsource: /x\ndistrict: {}\nevents: []\n")
    code = main(["import", str(EXAMPLES / "yearly-statistics.csv"), "--mapping", str(bad),
                 "--dry-run", "--no-progress"])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert f"invalid import mapping {bad}" in err
    assert "district: give at least one of `code`, `name`, `address`" in err
    assert "events: List should have at least 1 item" in err
