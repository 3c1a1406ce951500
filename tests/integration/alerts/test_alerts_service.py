"""The alerts service in-process on the real Kafka and PostgreSQL: idempotent consumption,
restart without re-deciding anything, and the HTTP API."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from iprwatch.stack.stack import Endpoints
from services.alerts.bootstrap import running
from services.alerts.entrypoints.http import create_app
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared.settings import KafkaSettings, PostgresSettings, SmtpSettings
from tests.integration.alerts.support import (
    ADMIN_TOKEN,
    change,
    eventually,
    produce,
    wait_for_mails,
    write_recipients,
)

pytestmark = pytest.mark.integration

BEHIND = [("2021-06", 1.0), ("2022-06", 2.0)]
ON_TRACK = [("2021-06", 1.0), ("2022-06", 6.0)]
PLAN = "chongqing-14th-fyp"
PLAN_NAME = '重庆市知识产权保护和运用"十四五"规划(2021—2025年)'
GI = "geographical_indications"


def _h(mail: Any, name: str) -> str:
    """A header's value, unfolded (a long one is folded before its first word)."""
    return str(mail[name]).strip()


@pytest.fixture
def settings(
    infra: Endpoints, kafka_settings: KafkaSettings, postgres_settings: PostgresSettings,
    db_schema: str, tmp_path: Path, unique: str,
) -> AlertsSettings:  # fmt: skip
    recipients = write_recipients(tmp_path / "r.yaml", [f"d-{unique}@dazu.example"],
                                  [f"c-{unique}@chongqing.example"])  # fmt: skip
    host, port = (
        infra.service_env()["IPRWATCH_SMTP_HOST"],
        infra.service_env()["IPRWATCH_SMTP_PORT"],
    )
    return AlertsSettings(
        db_schema=f"{db_schema}_alerts", consumer_group=f"{db_schema}-alerts",
        recipients_file=recipients, admin_token=SecretStr(ADMIN_TOKEN),
        now="2024-06-30", for_seconds=0, hold_down_seconds=0, group_wait_seconds=0,
        evaluation_interval_seconds=0.3, dispatch_interval_seconds=0.1,
        kafka=kafka_settings, postgres=postgres_settings,
        smtp=SmtpSettings(host=host, port=int(port)),
    )  # fmt: skip


async def test_a_stale_message_changes_nothing_and_a_restart_redecides_nothing(
    settings: AlertsSettings, mail_folder: Path, unique: str
) -> None:
    # seq 2 first, then the older seq 1 (same key: same partition, this order).
    await produce(settings.kafka, [change("500111", GI, 2, BEHIND),
                                   change("500111", GI, 1, ON_TRACK)])  # fmt: skip
    metrics = AlertMetrics()
    async with running(settings, metrics) as alerts:

        async def consumed() -> bool:  # counted before its evaluation ends: wait for both
            stale = metrics.changes.labels("stale")._value.get()
            return stale == 1.0 and bool(
                await alerts.repositories.alerts.alerts("firing", None, None)
            )

        await eventually(consumed)
        assert metrics.changes.labels("applied")._value.get() == 1.0
        assert await alerts.repositories.series.points(PLAN, "500111", GI) == BEHIND
        [row] = await alerts.repositories.alerts.alerts("firing", None, None)
        assert (row.district, row.indicator, row.alert.epoch) == ("500111", GI)[:2] + (1,)
        assert metrics.snapshot.firing == {("chongqing-14th-fyp", "500111", GI): "critical"}
        assert await wait_for_mails(mail_folder, f"d-{unique}@dazu.example", 1)
        assert await wait_for_mails(mail_folder, f"c-{unique}@chongqing.example", 1)

        async def both_sent() -> bool:
            return [r.status for r in await alerts.repositories.send_log.send_log()] == [
                "sent",
                "sent",
            ]

        await eventually(both_sent)
        log_before = [
            (r.message_id, r.status) for r in await alerts.repositories.send_log.send_log()
        ]

    metrics = AlertMetrics()
    async with running(settings, metrics) as alerts:
        await asyncio.sleep(1.5)  # a few evaluations and dispatch rounds
        [row] = await alerts.repositories.alerts.alerts("firing", None, None)
        assert row.alert.epoch == 1
        assert [
            (r.message_id, r.status) for r in await alerts.repositories.send_log.send_log()
        ] == (log_before)
        assert metrics.changes.labels("applied")._value.get() == 0.0  # offsets were committed


async def test_the_api_filters_alerts_and_manages_silences(settings: AlertsSettings) -> None:
    await produce(settings.kafka, [change("500111", GI, 1, BEHIND),
                                   change("500111", "madrid_registrations_cumulative", 1,
                                          [("2024-05", 9.0)])])  # fmt: skip
    app = create_app(settings)
    async with running(settings, AlertMetrics()) as alerts:
        app.state.alerts = alerts
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://alerts") as client:

            async def both() -> bool:
                return len((await client.get("/v1/alerts")).json()) == 2

            await eventually(both)
            firing = (await client.get("/v1/alerts", params={"state": "firing"})).json()
            assert [(a["indicator"], a["status"], a["value"]) for a in firing] == [
                (GI, "behind", 2.0)
            ]
            inactive = (await client.get("/v1/alerts", params={"state": "inactive"})).json()
            assert [(a["indicator"], a["status"]) for a in inactive] == [
                ("madrid_registrations_cumulative", "on_track")
            ]
            assert (await client.get("/v1/alerts", params={"district": "500112"})).json() == []

            body = {"matchers": [{"name": "indicator", "value": GI}], "createdBy": "王五",
                    "comment": "核查中", "durationSeconds": 600}  # fmt: skip
            wrong = await client.post(
                "/v1/silences", json=body, headers={"Authorization": "Bearer x"}
            )
            assert wrong.status_code == 403
            bad = await client.post("/v1/silences", json={**body, "endsAt": "2030-01-01T00:00:00Z"},
                                    headers=auth)  # fmt: skip
            assert bad.status_code == 422
            made = (await client.post("/v1/silences", json=body, headers=auth)).json()
            listed = (await client.get("/v1/silences")).json()
            assert [(s["id"], s["createdBy"], s["status"]["state"]) for s in listed] == [
                (made["id"], "王五", "active")
            ]
            assert (await client.delete(f"/v1/silences/{made['id']}")).status_code == 401
            gone = await client.delete(f"/v1/silences/{made['id']}", headers=auth)
            assert gone.json() == {"id": made["id"], "state": "expired"}
            listed = (await client.get("/v1/silences")).json()
            assert listed[0]["status"]["state"] == "expired"
            again = await client.delete(f"/v1/silences/{made['id']}", headers=auth)
            assert again.status_code == 404  # expired once
            missing = await client.delete(f"/v1/silences/{uuid.uuid4()}", headers=auth)
            assert missing.status_code == 404
            malformed = await client.delete("/v1/silences/nope", headers=auth)
            assert malformed.status_code == 422  # ids are UUIDs
            huge = await client.post(
                "/v1/silences", json={**body, "durationSeconds": 1e12}, headers=auth
            )
            assert huge.status_code == 422
            nul = await client.post("/v1/silences", json={**body, "comment": "a\u0000b"},
                                    headers=auth)  # fmt: skip
            assert nul.status_code == 422
            far = await client.post("/v1/silences", headers=auth, json={
                **{k: v for k, v in body.items() if k != "durationSeconds"},
                "endsAt": "9999-12-31T23:59:59-23:59"})  # fmt: skip
            assert far.status_code == 422
            assert len((await client.get("/v1/silences")).json()) == 1


async def test_a_firing_alert_is_told_again_after_the_repeat_interval_in_its_thread(
    settings: AlertsSettings, mail_folder: Path, unique: str
) -> None:
    settings = settings.model_copy(update={"repeat_interval_seconds": 1.0})
    await produce(settings.kafka, [change("500111", GI, 1, BEHIND)])
    async with running(settings, AlertMetrics()):
        mails = await wait_for_mails(mail_folder, f"d-{unique}@dazu.example", 2)
    first, second = mails[:2]
    # a slow dispatch round (a loaded machine) may find two repeats due at once: one mail
    repeats = _h(second, "X-IPRWatch-Alerts").split(", ")
    assert repeats[0] == "chongqing-14th-fyp/500111/geographical_indications/1/repeat/1"
    assert all("/geographical_indications/1/repeat/" in key for key in repeats)
    assert "告警:" in str(first["Subject"])
    assert "重复提醒" in str(second["Subject"]) or len(repeats) > 1
    assert first["Message-ID"] != second["Message-ID"]
    assert (
        _h(first, "In-Reply-To")
        == _h(second, "In-Reply-To")
        == ("<thread.chongqing-14th-fyp.500111.geographical_indications@alerts.iprwatch>")
    )


async def test_alerts_firing_together_reach_each_recipient_as_one_digest(
    settings: AlertsSettings, mail_folder: Path, unique: str
) -> None:
    settings = settings.model_copy(update={"group_wait_seconds": 1.0})
    madrid = "madrid_registrations_cumulative"
    await produce(settings.kafka, [change("500111", GI, 1, BEHIND),
                                   change("500111", madrid, 1, [("2024-05", 1.0)])])  # fmt: skip
    async with running(settings, AlertMetrics()):
        [city] = await wait_for_mails(mail_folder, f"c-{unique}@chongqing.example", 1)
        [dazu] = await wait_for_mails(mail_folder, f"d-{unique}@dazu.example", 1)
        await asyncio.sleep(1.5)
        assert len(await wait_for_mails(mail_folder, f"c-{unique}@chongqing.example", 2, 0)) == 1
    for mail in (city, dazu):
        assert sorted(_h(mail, "X-IPRWatch-Alerts").split(", ")) == [
            f"{PLAN}/500111/{GI}/1/firing/0", f"{PLAN}/500111/{madrid}/1/firing/0",
        ]  # fmt: skip
        assert str(mail["Subject"]).startswith(
            f"【知识产权规划监测】{PLAN_NAME} 2 项告警,0 项恢复:"
        )
        assert mail["In-Reply-To"] is None
        assert len([p for p in mail.walk() if p.get_content_type() == "image/png"]) == 2


async def test_two_replicas_one_leads_and_a_takeover_sends_nothing_twice(
    settings: AlertsSettings, mail_folder: Path, unique: str, postgres_settings: PostgresSettings
) -> None:
    settings = settings.model_copy(update={"leader_poll_seconds": 0.2, "leader_check_seconds": 0.2})
    dazu = f"d-{unique}@dazu.example"
    await produce(settings.kafka, [change("500111", GI, 1, BEHIND)])
    first_metrics, second_metrics = AlertMetrics(), AlertMetrics()
    async with running(settings, first_metrics) as first:

        async def first_leads() -> bool:
            return first.leadership.leading.is_set()

        await eventually(first_leads)
        async with running(settings, second_metrics) as second:
            [told] = await wait_for_mails(mail_folder, dazu, 1)
            assert "地理标志拥有量" in str(told["Subject"])
            assert second.consumer is None and not second.leadership.leading.is_set()
            assert (first_metrics.leader._value.get(), second_metrics.leader._value.get()) == (1, 0)
            # The leader's session ends (its network cut, its host drained): the lease passes.
            conn = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
            try:
                await conn.execute("SELECT pg_terminate_backend($1)", first.leadership.pid)
            finally:
                await conn.close()

            async def second_leads() -> bool:
                return second.leadership.leading.is_set() and second.consumer is not None

            await eventually(second_leads)
            # the new leader holds the same decisions: the alert still fires, its mail is not
            # sent again, and a new alert is told by the new leader only
            madrid = "madrid_registrations_cumulative"
            await produce(settings.kafka, [change("500111", madrid, 1, [("2024-05", 1.0)])])
            mails = await wait_for_mails(mail_folder, dazu, 2)
            await asyncio.sleep(1.5)
            assert len(await wait_for_mails(mail_folder, dazu, 2, 0)) == 2
            assert "马德里" in str(mails[1]["Subject"])
            firing = await second.repositories.alerts.alerts("firing", None, None)
            assert sorted(r.indicator for r in firing) == [GI, madrid]
            assert second_metrics.leader._value.get() == 1
