"""PostgreSQL stopped and started again under a running alerts service (a database of the
test's own, so that nothing else notices): the API answers 503 with Retry-After, never 500,
`/readyz` says not ready, and afterwards the service is ready again by itself, with the
indicator change that came during the outage stored and mailed once, and no mail twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from iprwatch.stack import postgres as pg
from iprwatch.stack.processes import LOOPBACK, free_port
from iprwatch.stack.stack import Endpoints
from shared.settings import KafkaSettings
from tests.integration.alerts.support import (
    ADMIN_TOKEN,
    AlertsProcess,
    MailSink,
    change,
    mails_to,
    produce,
    wait_for_mails,
    write_recipients,
)

pytestmark = pytest.mark.e2e

BEHIND = [("2021-06", 1.0), ("2022-06", 2.0)]
PLAN = "chongqing-14th-fyp"
GI, MADRID = "geographical_indications", "madrid_registrations_cumulative"


class Database:
    """A PostgreSQL cluster of this test's own, to stop (as a crash would) and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.log = folder / "postgres.log"

    def start(self) -> None:
        pg.start(self.folder, self.port, self.log)

    def crash(self) -> None:
        data = pg.cluster_folder(self.folder) / "data"
        command = [pg._bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]  # noqa: SLF001
        subprocess.run(pg._as_postgres_user(command), check=True, capture_output=True)  # noqa: S603, SLF001

    @property
    def dsn(self) -> str:
        return pg.dsn(self.port)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "pg")
    db.folder.mkdir()
    db.start()
    pg.create_database(db.port)
    yield db
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        db.crash()
    pg.remove_cluster(db.folder)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(tmp_path / "mail", tmp_path)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def alerts(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path, sink: MailSink,
    database: Database, unique: str,
) -> Iterator[AlertsProcess]:  # fmt: skip
    recipients = write_recipients(tmp_path / "r.yaml", [f"d-{unique}@dazu.example"],
                                  [f"c-{unique}@cq.example"])  # fmt: skip
    env = {
        **os.environ, **infra.service_env(), "IPRWATCH_PG_DSN": database.dsn,
        "IPRWATCH_KAFKA_INDICATORS_TOPIC": kafka_settings.indicators_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka_settings.partitions),
        "IPRWATCH_SMTP_HOST": LOOPBACK, "IPRWATCH_SMTP_PORT": str(sink.port),
        "IPRWATCH_ALERTS_PORT": str(free_port()),
        "IPRWATCH_ALERTS_CONSUMER_GROUP": f"alerts-{unique}",
        "IPRWATCH_ALERTS_RECIPIENTS_FILE": str(recipients),
        "IPRWATCH_ALERTS_NOW": "2024-06-30", "IPRWATCH_ALERTS_FOR_SECONDS": "0",
        "IPRWATCH_ALERTS_GROUP_WAIT_SECONDS": "0",
        "IPRWATCH_ALERTS_EVALUATION_INTERVAL_SECONDS": "0.5",
        "IPRWATCH_ALERTS_DISPATCH_INTERVAL_SECONDS": "0.2",
        "IPRWATCH_ALERTS_ADMIN_TOKEN": ADMIN_TOKEN,
    }  # fmt: skip
    process = AlertsProcess(env, tmp_path)
    yield process
    process.stop()


async def _calls(client: httpx.AsyncClient) -> list[httpx.Response]:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    silence = {"matchers": [{"name": "district", "value": "500101"}], "createdBy": "王五",
               "comment": "核查中", "durationSeconds": 60}  # fmt: skip
    return [
        await client.get("/v1/alerts"),
        await client.get("/v1/notifications"),
        await client.get("/v1/silences"),
        await client.post("/v1/silences", json=silence, headers=auth),
        await client.delete("/v1/silences/7d4c2b8e-3f5a-4e4e-9a53-0c4b1d2e3f40", headers=auth),
    ]


@pytest.mark.slow  # a long fault run: `make chaos`
async def test_a_database_restart_answers_503_then_recovers_without_loss_or_duplicate(
    alerts: AlertsProcess, database: Database, sink: MailSink, kafka_settings: KafkaSettings,
    unique: str,
) -> None:  # fmt: skip
    officials = (f"d-{unique}@dazu.example", f"c-{unique}@cq.example")
    alerts.start()
    await produce(kafka_settings, [change("500111", GI, 1, BEHIND)])
    for official in officials:
        assert len(await wait_for_mails(sink.folder, official, 1)) == 1

    async with httpx.AsyncClient(base_url=alerts.url, timeout=10) as client:
        database.crash()
        # an indicator change arrives while the database is away: it must not be lost
        await produce(kafka_settings, [change("500111", MADRID, 1, [("2024-05", 1.0)])])
        statuses: list[int] = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            for answer in await _calls(client):
                statuses.append(answer.status_code)
                if answer.status_code == 503:
                    assert int(answer.headers["Retry-After"]) > 0
            assert (await client.get("/readyz")).status_code == 503
            await asyncio.sleep(0.2)
        assert set(statuses) == {503}, statuses

        database.start()
        back = time.monotonic()
        while (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() - back < 60, "not ready a minute after the database came back"
            await asyncio.sleep(0.1)
        recovery = time.monotonic() - back
        print(f"alerts ready {recovery:.2f} s after PostgreSQL came back")  # noqa: T201

        for official in officials:  # the firing of the change that came during the outage
            assert len(await wait_for_mails(sink.folder, official, 2)) == 2
        await asyncio.sleep(2)  # evaluations and dispatch rounds go on: nothing more leaves
        for official in officials:
            mails = mails_to(sink.folder, official)
            assert sorted(str(m["X-IPRWatch-Alerts"]).strip() for m in mails) == [
                f"{PLAN}/500111/{GI}/1/firing/0", f"{PLAN}/500111/{MADRID}/1/firing/0",
            ]  # fmt: skip
        firing = (await client.get("/v1/alerts", params={"state": "firing"})).json()
        assert [(a["indicator"], a["value"]) for a in firing] == [(GI, 2.0), (MADRID, 1.0)]
        log = (await client.get("/v1/notifications")).json()
        assert sorted(row["status"] for row in log) == ["sent"] * 4
        metrics = (await client.get("/metrics")).text
        assert 'ipr_background_loop_up{loop="consumer"} 1.0' in metrics
        assert 'ipr_background_loop_restarts_total{loop="consumer"}' in metrics
