"""The monthly bulletin mailed by the alerts service, on the real PostgreSQL, Kafka and SMTP
server, its data read from the real indicators service over HTTP.

With the clock on 2022-04-01 (a Friday, April's first working day) the alerts service makes
chongqing-14th-fyp's bulletin of 2022-03 and mails it, PDF attached, to the city's recipient:
once, also after a restart. On 2022-05-04 (a Wednesday inside the Labour Day holiday) nothing
is made. `GET /v1/reports` lists it and serves the same PDF.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import time
from contextlib import AbstractContextManager
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from iprwatch.stack import system
from iprwatch.stack.stack import Endpoints
from services.alerts.bootstrap import running
from services.alerts.entrypoints.http import create_app as alerts_app
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from services.indicators.entrypoints.http import create_app as indicators_app
from services.indicators.settings import IndicatorsSettings
from shared.plans import BUNDLED_PLANS
from shared.read_access import ReadAccess
from shared.settings import KafkaSettings, PlanSettings, PostgresSettings, SmtpSettings
from tests.integration.alerts.support import mails_to, wait_for_mails, write_recipients
from tests.support.servers import serving_in_thread

pytestmark = pytest.mark.integration

FOURTEENTH = BUNDLED_PLANS / "chongqing-14th-fyp.yaml"
POPPLER = system.Requirement("pdftotext", "poppler-utils")


def serving(settings: IndicatorsSettings) -> AbstractContextManager[str]:
    """The indicators app under uvicorn in a thread of its own (its own event loop)."""
    return serving_in_thread(indicators_app(settings))


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "bulletin.pdf"
    path.write_bytes(pdf)
    command = ["pdftotext", "-layout", str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603


def attachment(mail: EmailMessage) -> tuple[str, bytes]:
    [part] = list(mail.iter_attachments())
    assert isinstance(part, EmailMessage)
    payload = part.get_content()
    assert isinstance(payload, bytes)
    return str(part.get_filename()), payload


async def test_the_monthly_bulletin_is_mailed_once_on_the_first_working_day(
    infra: Endpoints, kafka_settings: KafkaSettings, postgres_settings: PostgresSettings,
    db_schema: str, tmp_path: Path, unique: str, mail_folder: Path,
) -> None:  # fmt: skip
    system.ensure([POPPLER], say=lambda _: None)
    city = f"c-{unique}@chongqing.example"
    recipients = write_recipients(tmp_path / "r.yaml", [f"d-{unique}@dazu.example"], [city])
    plans = PlanSettings(plans=str(FOURTEENTH))
    indicators = IndicatorsSettings(
        db_schema=db_schema, consumer_group=f"{db_schema}-fold", kafka=kafka_settings,
        postgres=postgres_settings, plan=plans,
    )  # fmt: skip
    env = infra.service_env()
    with serving(indicators) as url:
        settings = AlertsSettings(
            db_schema=f"{db_schema}_alerts", consumer_group=f"{db_schema}-alerts",
            recipients_file=recipients, dispatch_interval_seconds=0.1,
            evaluation_interval_seconds=60, bulletin_check_seconds=0.5, indicators_url=url,
            kafka=kafka_settings, postgres=postgres_settings, plan=plans, now="2022-04-01",
            smtp=SmtpSettings(host=env["IPRWATCH_SMTP_HOST"], port=int(env["IPRWATCH_SMTP_PORT"])),
        )  # fmt: skip
        async with running(settings, AlertMetrics()) as alerts:
            [mail] = await wait_for_mails(mail_folder, city, 1, timeout=120)
            assert str(mail["Subject"]) == (
                '重庆市知识产权统计月报 2022年3月 · 重庆市知识产权保护和运用"十四五"规划'
                "(2021—2025年)"
            )
            name, pdf = attachment(mail)
            assert name == "bulletin-chongqing-14th-fyp-2022-03.pdf"
            text = pdf_text(pdf, tmp_path)
            assert "统计月报" in text and "2022年3月" in text
            assert "3.5万件" in text  # the plan's published baseline of valid invention patents
            html = mail.get_body(preferencelist=("html",))
            assert isinstance(html, EmailMessage)
            assert "重庆市知识产权统计月报" in str(html.get_content())
            assert mails_to(mail_folder, f"d-{unique}@dazu.example") == []  # the area's only

            app = alerts_app(settings, ReadAccess(()))
            app.state.alerts = alerts
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://alerts") as api:
                for _ in range(100):  # the send log says `sent` just after the server's 250
                    [entry] = (await api.get("/v1/reports")).json()
                    if entry["sent_to"]:
                        break
                    await asyncio.sleep(0.1)
                digest = hashlib.sha256(pdf).hexdigest()
                assert (entry["plan"], entry["month"], entry["sha256"]) == (
                    "chongqing-14th-fyp", "2022-03", digest,
                )  # fmt: skip
                assert (entry["bytes"], entry["recipients"], entry["sent_to"]) == (
                    len(pdf), [city], [city],
                )  # fmt: skip
                assert entry["pages"] >= 3
                served = await api.get(entry["pdf"])
                assert served.status_code == 200
                assert served.headers["content-type"] == "application/pdf"
                assert hashlib.sha256(served.content).hexdigest() == digest
                page = await api.get("/v1/reports/chongqing-14th-fyp/2022-03.html")
                assert "统计月报" in page.text
                missing = await api.get("/v1/reports/chongqing-14th-fyp/2022-02.pdf")
                assert missing.status_code == 404
                assert "/v1/reports" in app.openapi()["paths"]

        async def rounds(day: str) -> None:
            """Start the service on `day` and let the bulletin job run a few rounds."""
            async with running(settings.model_copy(update={"now": AlertsSettings(now=day).now}),
                               AlertMetrics()) as again:  # fmt: skip
                deadline = time.monotonic() + 30
                while not again.leadership.leading.is_set():  # the job runs on the leader
                    assert time.monotonic() < deadline, "never the leader"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(2.0)  # four rounds of the job
                assert again.reports is not None
                assert [(e.plan, e.month) for e in await again.reports.entries(10)] == [
                    ("chongqing-14th-fyp", "2022-03"),
                ]  # fmt: skip

        await rounds("2022-04-01")  # a restart on the same day: made and sent already
        await rounds("2022-05-04")  # a Wednesday of the Labour Day holiday: not a working day
    assert len(mails_to(mail_folder, city)) == 1
