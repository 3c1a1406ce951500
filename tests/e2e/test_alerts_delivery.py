"""Delivery under failure: the SMTP server down for a while, the alerts process killed mid-send.

The alerts service runs as a real process on the real Kafka and PostgreSQL, mailing a sink of
the test's own; the test produces the indicator changes itself (the indicators service's part
is covered by test_alerts.py). Each test shows exactly one mail per official at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from iprwatch.stack.processes import LOOPBACK, free_port, is_alive
from iprwatch.stack.stack import Endpoints
from shared.settings import KafkaSettings
from tests.integration.alerts.support import (
    AlertsProcess,
    MailSink,
    change,
    counter,
    mails_to,
    produce,
    wait_for_mails,
    write_recipients,
)

pytestmark = pytest.mark.e2e

BEHIND = [("2021-06", 1.0), ("2022-06", 2.0)]  # Dazu GIs: 2 against 4.9 required on 2024-06-30


@pytest.fixture
def officials(unique: str) -> tuple[str, str]:
    return f"dazu-{unique}@dazu.example", f"city-{unique}@chongqing.example"


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(tmp_path / "mail", tmp_path)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def alerts(
    infra: Endpoints,
    kafka_settings: KafkaSettings,
    db_schema: str,
    tmp_path: Path,
    sink: MailSink,
    officials: tuple[str, str],
) -> Iterator[AlertsProcess]:
    import os

    recipients = write_recipients(tmp_path / "recipients.yaml", [officials[0]], [officials[1]])
    env = {
        **os.environ, **infra.service_env(),
        "IPRWATCH_KAFKA_INDICATORS_TOPIC": kafka_settings.indicators_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka_settings.partitions),
        "IPRWATCH_SMTP_HOST": LOOPBACK, "IPRWATCH_SMTP_PORT": str(sink.port),
        "IPRWATCH_ALERTS_PORT": str(free_port()),
        "IPRWATCH_ALERTS_DB_SCHEMA": f"{db_schema}_alerts",
        "IPRWATCH_ALERTS_CONSUMER_GROUP": f"{db_schema}-alerts",
        "IPRWATCH_ALERTS_RECIPIENTS_FILE": str(recipients),
        "IPRWATCH_ALERTS_NOW": "2024-06-30", "IPRWATCH_ALERTS_FOR_SECONDS": "0",
        "IPRWATCH_ALERTS_EVALUATION_INTERVAL_SECONDS": "0.5",
        "IPRWATCH_ALERTS_GROUP_WAIT_SECONDS": "0",
        "IPRWATCH_ALERTS_DISPATCH_INTERVAL_SECONDS": "0.2",
        "IPRWATCH_ALERTS_RETRY_BASE_SECONDS": "0.5", "IPRWATCH_ALERTS_RETRY_MAX_SECONDS": "1",
    }  # fmt: skip
    process = AlertsProcess(env, tmp_path)
    yield process
    process.stop()


async def send_log(alerts: AlertsProcess) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(timeout=10) as client:
        rows = (await client.get(f"{alerts.url}/v1/notifications")).json()
    return sorted((row["recipient"], row["status"]) for row in rows)


async def wait_dead(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        assert time.monotonic() < deadline, "the alerts process did not crash where told"
        await asyncio.sleep(0.1)


@pytest.mark.slow  # a long fault run: `make chaos`
async def test_smtp_down_for_a_while_delays_mail_without_losing_or_doubling_it(
    alerts: AlertsProcess, sink: MailSink, kafka_settings: KafkaSettings,
    officials: tuple[str, str],
) -> None:  # fmt: skip
    alerts.start()
    sink.stop()
    await produce(kafka_settings, [change("500111", "geographical_indications", 1, BEHIND)])
    deadline = time.monotonic() + 30
    while await counter(alerts.url, "ipr_notifications_failed_total", "email") < 2:
        assert time.monotonic() < deadline, "no delivery was tried"
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # a few more retries against the closed port
    assert mails_to(sink.folder, officials[0]) == []
    assert await send_log(alerts) == [(officials[1], "sending"), (officials[0], "sending")]

    sink.start()
    [mail] = await wait_for_mails(sink.folder, officials[0], 1)
    [chart] = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert bytes(chart.get_payload(decode=True))[:8] == b"\x89PNG\r\n\x1a\n"
    page = mail.get_body(preferencelist=("html",))
    assert page is not None and "规划路径要求值 4.9件" in str(page.get_content())  # the img alt
    assert len(await wait_for_mails(sink.folder, officials[1], 1)) == 1
    await asyncio.sleep(2)
    assert len(mails_to(sink.folder, officials[0])) == 1
    assert len(mails_to(sink.folder, officials[1])) == 1
    assert await send_log(alerts) == [(officials[1], "sent"), (officials[0], "sent")]
    assert await counter(alerts.url, "ipr_notifications_sent_total", "email") == 2.0


@pytest.mark.parametrize(
    ("crash_point", "after_restart"),
    [
        # killed after the server answered 354, before the end of data: the server holds
        # nothing, the row is still `sending`, so the restarted process sends it (once).
        ("before_end_of_data", ["sent", "sent"]),
        # killed after the server accepted the mail, before `sent` was written: the row is
        # `transmitting`, so the restarted process never sends it again (`unconfirmed`).
        ("after_accepted", ["sent", "unconfirmed"]),
    ],
)
async def test_killed_mid_send_and_restarted_sends_each_mail_exactly_once(
    alerts: AlertsProcess, sink: MailSink, kafka_settings: KafkaSettings,
    officials: tuple[str, str], crash_point: str, after_restart: list[str],
) -> None:  # fmt: skip
    alerts.start(crash_point=crash_point)
    pid = alerts.pid
    assert pid is not None
    await produce(kafka_settings, [change("500111", "geographical_indications", 1, BEHIND)])
    await wait_dead(pid)
    delivered = len(mails_to(sink.folder, officials[0])) + len(mails_to(sink.folder, officials[1]))
    assert delivered == (1 if crash_point == "after_accepted" else 0)

    alerts.start()
    assert len(await wait_for_mails(sink.folder, officials[0], 1)) == 1
    assert len(await wait_for_mails(sink.folder, officials[1], 1)) == 1
    await asyncio.sleep(2)  # evaluations and dispatch go on: nothing more leaves
    assert len(mails_to(sink.folder, officials[0])) == 1
    assert len(mails_to(sink.folder, officials[1])) == 1
    assert sorted(status for _, status in await send_log(alerts)) == after_restart
