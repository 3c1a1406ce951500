"""`iprwatch import`: a registry export sent through the ingest service running as a process."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.stack import Endpoints
from services.ingest.adapters.tokens import TokenStore
from shared.events import EXAMPLES
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import ingest_process, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def ingest_url(infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "cnipa.token").write_text(
        TokenStore(tmp_path / "tokens.json").add(
            "cnipa", ["/registries/cnipa/*"], ["cn.ipr.patent.*"]
        )
    )
    with ingest_process(infra, kafka_settings, tmp_path) as ingest:
        yield ingest.url


def run_import(*args: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "iprwatch.cli", "import", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if k != "IPRWATCH_TOKEN"},
    )  # fmt: skip
    summary = json.loads(result.stdout) if result.stdout.strip() else {"stderr": result.stderr}
    return result.returncode, summary


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "source", "type", "subject", "time", "data.district",
                         "data.high_value"])  # fmt: skip
        for n in range(rows):
            district = "500199" if n % 500 == 7 else "500112"  # 500199 is no division
            source = "/registries/samr/marks" if n == 1234 else "/registries/cnipa/patents"
            high_value = "true" if n % 2 else "false"
            writer.writerow([f"csv-{n}", source, "cn.ipr.patent.invention.granted", f"ZL{n}",
                             "2023-05-12T00:00:00+08:00", district, high_value])  # fmt: skip
        writer.writerow(["short-row"] + [""] * 5 + ["x", "extra"])


async def test_a_csv_export_is_imported_with_bad_rows_set_aside_and_reruns_are_safe(
    ingest_url: str, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    export = tmp_path / "grants.csv"
    write_csv(export, 2500)
    token = (tmp_path / "cnipa.token").read_text()
    rejected = tmp_path / "rejected.ndjson"
    args = [str(export), "--url", ingest_url, "--token", token, "--batch", "1000",
            "--rejected", str(rejected)]  # fmt: skip

    code, summary = run_import(*args)
    assert code == 2, summary
    assert summary == {
        "rows": 2501, "accepted": 2494, "rejected": 7, "skipped": 0,
        "reasons": {"invalid": 5, "forbidden": 1, "unreadable": 1},
        "rejected_file": str(rejected),
    }  # fmt: skip
    entries = [json.loads(line) for line in rejected.read_text().splitlines()]
    by_line = {e["line"]: e["problems"] for e in entries}
    assert by_line[9] == [
        "data.district: unknown district code '500199': not a division of any plan"
    ]
    assert by_line[1236] == ["source: token 'cnipa' may not send source '/registries/samr/marks'"]
    assert by_line[2502] == ["the row has more cells than the header has columns"]

    again_code, again = run_import(*args)  # a re-run sends the same acts again: harmless
    assert (again_code, again["accepted"], again["rejected"]) == (2, 2494, 7)
    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    counts = Counter(r.event.id for r in records)
    assert len(counts) == 2494
    assert set(counts.values()) == {2}


async def test_an_ndjson_export_of_every_type_and_a_wrong_token(
    ingest_url: str, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    export = tmp_path / "mixed.ndjson"
    patents = [{**e, "source": "/registries/cnipa/patents"} for t, e in EXAMPLES.items()
               if t.startswith("cn.ipr.patent.")]  # fmt: skip
    export.write_text("".join(json.dumps(e) + "\n" for e in patents) + "not json\n")
    token = (tmp_path / "cnipa.token").read_text()

    code, summary = run_import(str(export), "--url", ingest_url, "--token", token)
    assert code == 2
    assert (summary["accepted"], summary["rejected"]) == (5, 1)
    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    assert sorted(r.event.type for r in records) == sorted(e["type"] for e in patents)

    refused, _ = run_import(str(export), "--url", ingest_url, "--token", "iprw_wrong")
    assert refused == 1
