"""schemathesis, every check, against the alerts service running as a process on the real
broker, database and SMTP sink: no 5xx, and every answer as the OpenAPI document says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from iprwatch.stack.processes import free_port
from iprwatch.stack.stack import Endpoints
from shared.settings import KafkaSettings
from tests.integration.alerts.support import (
    ADMIN_TOKEN,
    AlertsProcess,
    change,
    produce,
    write_recipients,
)

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def alerts(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> Iterator[AlertsProcess]:
    recipients = write_recipients(tmp_path / "r.yaml", ["d@dazu.example"], ["c@cq.example"])
    env = {
        **os.environ, **infra.service_env(),
        "IPRWATCH_KAFKA_INDICATORS_TOPIC": kafka_settings.indicators_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka_settings.partitions),
        "IPRWATCH_ALERTS_PORT": str(free_port()),
        "IPRWATCH_ALERTS_DB_SCHEMA": f"{db_schema}_alerts",
        "IPRWATCH_ALERTS_CONSUMER_GROUP": f"{db_schema}-alerts",
        "IPRWATCH_ALERTS_RECIPIENTS_FILE": str(recipients),
        "IPRWATCH_ALERTS_NOW": "2024-06-30", "IPRWATCH_ALERTS_FOR_SECONDS": "0",
        "IPRWATCH_ALERTS_GROUP_WAIT_SECONDS": "0",
        "IPRWATCH_ALERTS_ADMIN_TOKEN": ADMIN_TOKEN,
        # the read endpoints guarded too, so that ignored_auth is checked on every operation
        "IPRWATCH_READ_TOKENS": f"another-reader,{ADMIN_TOKEN}",
    }  # fmt: skip
    process = AlertsProcess(env, tmp_path)
    process.start()
    yield process
    process.stop()


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    alerts: AlertsProcess, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    # data in every list: a firing alert, an on-track one, and the mails they queue
    await produce(kafka_settings, [
        change("500111", "geographical_indications", 1, [("2021-06", 1.0), ("2022-06", 2.0)]),
        change("500111", "madrid_registrations_cumulative", 1, [("2024-05", 9.0)]),
    ])  # fmt: skip
    run = subprocess.run(  # noqa: S603 - our own virtualenv's tool
        [str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color", "run",
         f"{alerts.url}/openapi.json", "--checks", "all", "--max-examples", "100",
         "--workers", "1", "--seed", "20240630", "--generation-database", "none",
         "--header", f"Authorization: Bearer {ADMIN_TOKEN}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "10 selected / 10 total" in run.stdout, report  # with the 3 of /v1/reports
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts is not None, report
    generated, passed = int(counts[1]), int(counts[2])
    assert generated == passed >= 7 * 90, report  # about 100 cases for each operation
