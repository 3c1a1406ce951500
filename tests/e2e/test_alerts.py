"""Alerts on the real stack: events into ingest, indicators folds, alerts mails real SMTP."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from iprwatch.stack.stack import Endpoints
from shared.settings import KafkaSettings
from tests.integration.alerts.support import (
    ADMIN_TOKEN,
    mails_to,
    text_of,
    wait_for_mails,
    write_recipients,
)
from tests.support.metrics import samples_of
from tests.support.services import RunningServices, start_services

pytestmark = pytest.mark.e2e

TODAY = "2024-06-30"  # required GI of Dazu: 7 × 1277/1826 days = 4.8954 (shown 4.9)


def _h(mail: Any, name: str) -> str:
    """A header's value, unfolded (a long one is folded before its first word)."""
    return str(mail[name]).strip()


@pytest.fixture
def officials(unique: str) -> dict[str, str]:
    return {"dazu": f"dazu-{unique}@dazu.example", "city": f"city-{unique}@chongqing.example"}


@pytest.fixture
def stack(
    infra: Endpoints,
    kafka_settings: KafkaSettings,
    db_schema: str,
    tmp_path: Path,
    officials: dict[str, str],
) -> Iterator[RunningServices]:
    recipients = write_recipients(tmp_path / "recipients.yaml", [officials["dazu"]],
                                  [officials["city"]])  # fmt: skip
    alerts = {
        "RECIPIENTS_FILE": str(recipients), "NOW": TODAY, "FOR_SECONDS": "1",
        "HOLD_DOWN_SECONDS": "1", "EVALUATION_INTERVAL_SECONDS": "0.5",
        "GROUP_WAIT_SECONDS": "0.5", "DISPATCH_INTERVAL_SECONDS": "0.2",
        "ADMIN_TOKEN": ADMIN_TOKEN,
    }  # fmt: skip
    with start_services(infra, kafka_settings, db_schema, tmp_path, alerts) as running:
        yield running


def gi(n: int, day: str, district: str = "500111") -> dict[str, object]:
    return {
        "specversion": "1.0", "id": f"cnipa-gi-{n}", "source": "/registries/cnipa/gi",
        "type": "cn.ipr.gi.product.registered", "subject": f"GI-{n:04d}",
        "time": f"{day}T00:00:00+08:00", "datacontenttype": "application/json",
        "data": {"district": district},
    }  # fmt: skip


async def post(stack: RunningServices, events: list[dict[str, object]]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{stack.ingest}/v1/events", json=events, headers=stack.auth_headers
        )
    assert response.status_code == 202, response.text


async def alert_state(
    stack: RunningServices, state: str, timeout: float = 60
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            found = (
                await client.get(
                    f"{stack.alerts}/v1/alerts",
                    params={"district": "500111", "indicator": "geographical_indications"},
                )
            ).json()
            if (found and found[0]["state"] == state) or time.monotonic() > deadline:
                return list(found)
            await asyncio.sleep(0.2)


async def test_falling_behind_mails_once_and_recovery_mails_resolved(
    stack: RunningServices, mail_folder: Path, officials: dict[str, str]
) -> None:
    await post(stack, [gi(1, "2021-03-10"), gi(2, "2022-05-10")])
    firing = await wait_for_mails(mail_folder, officials["dazu"], 1)
    assert len(firing) == 1
    mail = firing[0]
    text = text_of(mail)
    assert "大足区" in str(mail["Subject"]) and "地理标志拥有量" in str(mail["Subject"])
    assert "告警" in str(mail["Subject"])
    assert "当前值:2(截至 2022-05)" in text
    assert "规划路径要求值:4.9\n" in text
    assert "到期预测值:4.01(90% 区间 2.4 ~ 5.62)" in text
    assert "2025 年目标:7" in text
    assert "规划进度对照日:2024-06-30" in text
    assert (
        _h(mail, "In-Reply-To")
        == "<thread.chongqing-14th-fyp.500111.geographical_indications@alerts.iprwatch>"
    )
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and "cid:chart0@alerts.iprwatch" in str(html.get_content())
    pngs = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(pngs) == 1 and pngs[0]["Content-ID"] == "<chart0@alerts.iprwatch>"
    assert bytes(pngs[0].get_payload(decode=True))[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", bytes(pngs[0].get_payload(decode=True))[16:24]) == (1200, 700)
    assert (
        "alt='大足区地理标志拥有量走势图;当前值 2件(截至2022年5月),规划路径要求值 4.9件,"
        "2025年末目标 7件,到期预测值 4.01件(90%区间 2.4~5.62件)。'"
    ) in str(html.get_content())
    assert len(await wait_for_mails(mail_folder, officials["city"], 1)) == 1
    [alert] = await alert_state(stack, "firing")
    assert (alert["status"], alert["value"], alert["severity"]) == ("behind", 2.0, "critical")
    key = ("500111", "geographical_indications")
    metrics = f"{stack.alerts}/metrics"
    assert (await samples_of(metrics, "ipr_indicator_required"))[key] == pytest.approx(
        7 * 1277 / 1826, 1e-9
    )
    assert (await samples_of(metrics, "ipr_indicator_forecast"))[key] == pytest.approx(
        alert["forecast"], 1e-12
    )
    assert await samples_of(metrics, "ipr_alert_firing") == {key: 1.0}

    await asyncio.sleep(2)  # evaluations go on: no second mail for the same firing
    assert len(mails_to(mail_folder, officials["dazu"])) == 1

    await post(stack, [gi(10 + n, "2024-06-05") for n in range(5)])  # 7: back on the path
    both = await wait_for_mails(mail_folder, officials["dazu"], 2)
    assert len(both) == 2
    resolved = both[1]
    assert "已恢复" in str(resolved["Subject"])
    assert "当前值:7(截至 2024-06)" in text_of(resolved)
    assert _h(resolved, "References") == _h(mail, "In-Reply-To")
    assert len(await wait_for_mails(mail_folder, officials["city"], 2)) == 2
    [alert] = await alert_state(stack, "inactive")
    assert alert["status"] == "on_track" and alert["resolved_at"] is not None
    assert await samples_of(f"{stack.alerts}/metrics", "ipr_alert_firing") == {}

    await asyncio.sleep(2)
    assert len(mails_to(mail_folder, officials["dazu"])) == 2
    assert len(mails_to(mail_folder, officials["city"])) == 2
    async with httpx.AsyncClient(timeout=10) as client:
        log = (await client.get(f"{stack.alerts}/v1/notifications")).json()
    assert sorted((n["recipient"], n["status"]) for n in log) == sorted(
        [(officials["dazu"], "sent"), (officials["city"], "sent")] * 2
    )


async def test_a_silence_suppresses_the_mail(
    stack: RunningServices, mail_folder: Path, officials: dict[str, str]
) -> None:
    silence = {
        "matchers": [{"name": "district", "value": "500111"}],
        "createdBy": "张三", "comment": "数据补录中", "durationSeconds": 3600,
    }  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.post(f"{stack.alerts}/v1/silences", json=silence)
        made = await client.post(f"{stack.alerts}/v1/silences", json=silence,
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    assert refused.status_code == 401
    assert made.status_code == 201, made.text
    assert made.json()["status"] == {"state": "active"}

    await post(stack, [gi(1, "2021-03-10")])
    await alert_state(stack, "firing")
    await asyncio.sleep(2)  # group wait 0.5 s, dispatch every 0.2 s: it would have gone
    assert mails_to(mail_folder, officials["dazu"]) == []
    assert mails_to(mail_folder, officials["city"]) == []
    async with httpx.AsyncClient(timeout=10) as client:
        log = (await client.get(f"{stack.alerts}/v1/notifications")).json()
    assert log == []
