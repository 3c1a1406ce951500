"""`iprwatch tokens add|list|revoke` and the rows of a registry export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from iprwatch.cli import main
from services.ingest.adapters.tokens import TokenStore
from services.ingest.domain.rows import csv_rows, ndjson_rows


def test_tokens_add_prints_the_token_once_list_and_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "tokens.json"
    assert (
        main(
            [
                "tokens",
                "--file",
                str(file),
                "add",
                "cnipa",
                "--source",
                "/registries/cnipa/*",
                "--type",
                "cn.ipr.patent.*",
                "--type",
                "cn.ipr.pct.*",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    token = out.strip()
    assert "shown only this once" in err
    grant = TokenStore(file).verify(token)
    assert grant is not None
    assert (grant.sources, grant.types) == (
        ("/registries/cnipa/*",),
        ("cn.ipr.patent.*", "cn.ipr.pct.*"),
    )

    assert main(["tokens", "--file", str(file), "list"]) == 0
    listed = capsys.readouterr().out
    assert "cnipa" in listed
    assert token not in listed

    assert (
        main(["tokens", "--file", str(file), "add", "cnipa", "--source", "*", "--type", "*"]) == 1
    )
    assert "exists" in capsys.readouterr().err
    assert main(["tokens", "--file", str(file), "revoke", "cnipa"]) == 0
    assert main(["tokens", "--file", str(file), "revoke", "cnipa"]) == 1
    assert TokenStore(file).verify(token) is None


def test_the_tokens_file_comes_from_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IPRWATCH_INGEST_TOKENS_FILE", str(tmp_path / "from-env.json"))
    assert main(["tokens", "add", "x", "--source", "*", "--type", "*"]) == 0
    assert [t.name for t in TokenStore(tmp_path / "from-env.json").list()] == ["x"]


def test_csv_rows_become_events_with_typed_data_columns() -> None:
    text = (
        "id,source,type,subject,time,data.district,data.high_value,data\n"
        "a1,/r,cn.ipr.patent.invention.granted,ZL1,2023-05-12T00:00:00+08:00,500112,true,\n"
        'a2,/r,cn.ipr.service.revenue.reported,,2023-12-31T00:00:00+08:00,,,"{""district"": '
        '""500103"", ""year"": 2023, ""amount_cny"": 5}"\n'
        "a3,/r,x,y,z,1,2,3,4\n"
    )
    rows = list(csv_rows(io.StringIO(text)))
    assert [(r.line, r.problem) for r in rows] == [
        (2, None),
        (3, None),
        (4, "the row has more cells than the header has columns"),
    ]
    assert rows[0].event == {
        "specversion": "1.0",
        "id": "a1",
        "source": "/r",
        "type": "cn.ipr.patent.invention.granted",
        "subject": "ZL1",
        "time": "2023-05-12T00:00:00+08:00",
        "data": {"district": "500112", "high_value": True},
    }
    assert rows[1].event is not None
    assert rows[1].event["data"] == {"district": "500103", "year": 2023, "amount_cny": 5}
    assert "subject" not in rows[1].event


def test_ndjson_rows_name_unreadable_lines() -> None:
    text = '{"id": "a"}\n\n[1]\n{broken\n'
    rows = list(ndjson_rows(io.StringIO(text)))
    assert [(r.line, r.event, r.problem) for r in rows] == [
        (1, {"id": "a"}, None),
        (3, None, "a line must hold one event, a JSON object"),
        (
            4,
            None,
            "malformed JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
    ]
    assert json.loads(rows[0].text) == {"id": "a"}
