"""Webhooks on the real database: an Alertmanager receiver and a WeCom-style robot, over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from iprwatch.stack.processes import LOOPBACK, free_port
from iprwatch.stack.stack import Endpoints
from services.alerts.bootstrap import running
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.alerts.support import change, produce

pytestmark = pytest.mark.integration


class Receiver:
    """A tiny HTTP server keeping every JSON body; answers `errcode` 0 like a robot, or 500."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bodies: list[tuple[str, Any]] = []
        self.failures_left = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1].decode()
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))  # fmt: skip
        body = json.loads(await reader.readexactly(length))
        if self.failures_left:
            self.failures_left -= 1
            status = b"500 Internal Server Error"
        else:
            self.bodies.append((path, body))
            status = b"200 OK"
        answer = b'{"errcode": 0, "errmsg": "ok"}'
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                     b"content-length: " + str(len(answer)).encode() + b"\r\nconnection: close"
                     b"\r\n\r\n" + answer)  # fmt: skip
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, LOOPBACK, receiver.port)
    yield receiver
    server.close()
    await server.wait_closed()


async def test_the_same_notice_reaches_alertmanager_and_wecom_receivers_once(
    infra: Endpoints, kafka_settings: KafkaSettings, postgres_settings: PostgresSettings,
    db_schema: str, tmp_path: Path, receiver: Receiver,
) -> None:  # fmt: skip
    url = f"http://{LOOPBACK}:{receiver.port}"
    recipients = tmp_path / "r.yaml"
    recipients.write_text(
        "webhooks:\n"
        f"  - {{name: ops, kind: alertmanager, url: '{url}/am'}}\n"
        f"  - {{name: dazu-robot, kind: wecom, url: '{url}/wecom', districts: ['500111']}}\n"
        f"  - {{name: other, kind: dingtalk, url: '{url}/ding', districts: ['500112']}}\n"
    )
    receiver.failures_left = 1  # the first call fails: retried later, delivered once
    settings = AlertsSettings(
        db_schema=f"{db_schema}_alerts", consumer_group=f"{db_schema}-alerts",
        recipients_file=recipients, admin_token=SecretStr("x"), now="2024-06-30",
        for_seconds=0, group_wait_seconds=0, evaluation_interval_seconds=0.3,
        dispatch_interval_seconds=0.1, retry_base_seconds=0.2,
        kafka=kafka_settings, postgres=postgres_settings,
    )  # fmt: skip
    await produce(kafka_settings, [change("500111", "geographical_indications", 1,
                                          [("2021-06", 1.0), ("2022-06", 2.0)])])  # fmt: skip
    metrics = AlertMetrics()
    async with running(settings, metrics):
        deadline = time.monotonic() + 30
        while len(receiver.bodies) < 2:
            assert time.monotonic() < deadline, receiver.bodies
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
    by_path = dict(receiver.bodies)
    assert sorted(by_path) == ["/am", "/wecom"] and len(receiver.bodies) == 2
    am = by_path["/am"]
    assert (am["version"], am["status"], am["receiver"]) == ("4", "firing", "ops")
    assert am["alerts"][0]["labels"]["district"] == "500111"
    assert am["alerts"][0]["annotations"]["value"] == "2.0"
    assert "大足区 · 地理标志拥有量" in by_path["/wecom"]["markdown"]["content"]
    assert metrics.sent.labels("webhook")._value.get() == 2.0
    assert metrics.failed.labels("webhook")._value.get() == 1.0
