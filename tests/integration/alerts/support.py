"""Helpers for the alerts tests: recipients files, caught mail, an alerts process, a mail sink."""

from __future__ import annotations

import asyncio
import email
import email.policy
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import LOOPBACK, free_port, port_answers, spawn, stop
from iprwatch.stack.stack import launch_service, service_marker, wait_ready
from shared.indicator_events import IndicatorChanged, SeriesPoint, to_kafka
from shared.kafka import ensure_topics, reliable_producer
from shared.settings import KafkaSettings

ADMIN_TOKEN = "test-admin-token"  # noqa: S105 - a test's own token


def write_recipients(path: Path, dazu: Sequence[str], city: Sequence[str]) -> Path:
    lines = ["city:"] + [f"  - {{email: {a}}}" for a in city] + ["districts:", '  "500111":']
    lines += [f"    - {{email: {a}}}" for a in dazu]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mails_to(folder: Path, recipient: str) -> list[EmailMessage]:
    found = []
    for file in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        if msg["X-Envelope-To"] == recipient:
            found.append(msg)
    return found


async def wait_for_mails(
    folder: Path, recipient: str, count: int, timeout: float = 60.0
) -> list[EmailMessage]:
    """Wait until `recipient` has at least `count` mails; return them all."""
    deadline = time.monotonic() + timeout
    while True:
        found = mails_to(folder, recipient)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


class AlertsProcess:
    """The alerts service as a real process, started, killed and restarted by a test."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.pid: int | None = None
        self.url = f"http://{LOOPBACK}:{env['IPRWATCH_ALERTS_PORT']}"
        self.starts = 0

    def start(self, crash_point: str | None = None, **overrides: str) -> None:
        """Start the service; with `crash_point`, the one that kills itself there
        (`tests/support/crashing_alerts.py`)."""
        self.starts += 1
        log = self.logs / f"alerts-{self.starts}.log"
        env = {**self.env, **overrides}
        if crash_point is None:
            self.pid = launch_service("alerts", env, log)
        else:
            command = [sys.executable, "-m", "tests.support.crashing_alerts"]
            env["IPRWATCH_TEST_CRASH_POINT"] = crash_point
            self.pid = spawn(command, log, env=env, cwd=REPO_ROOT)
        wait_ready(self.url, self.pid, "alerts", log)

    def stop(self) -> None:
        if self.pid is not None:
            stop(self.pid, service_marker("alerts"), timeout=20)
            self.pid = None


class MailSink:
    """A mail sink of the test's own (`python -m iprwatch.stack.mailsink`), to stop and restart."""

    def __init__(self, folder: Path, logs: Path) -> None:
        self.folder = folder
        self.logs = logs
        self.port = free_port()
        self.pid: int | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "iprwatch.stack.mailsink", "--port", str(self.port),
                   "--folder", str(self.folder)]  # fmt: skip
        self.pid = spawn(command, self.logs / f"mailsink-{self.port}.log")
        deadline = time.monotonic() + 20
        while not port_answers(self.port):
            assert time.monotonic() < deadline, "mail sink did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.pid is not None:
            stop(self.pid, "iprwatch.stack.mailsink", timeout=10)
            self.pid = None


def change(
    district: str, indicator: str, seq: int, series: Sequence[tuple[str, float]]
) -> IndicatorChanged:
    month, value = series[-1]
    return IndicatorChanged(
        plan="chongqing-14th-fyp",
        district=district, indicator=indicator, month=month, value=value, month_value=value,
        seq=seq, series=tuple(SeriesPoint(month=m, value=v) for m, v in series),
    )  # fmt: skip


async def produce(kafka: KafkaSettings, changes: Sequence[IndicatorChanged]) -> None:
    await ensure_topics(kafka, [kafka.indicators_topic])
    producer = reliable_producer(kafka, "alerts-tests")
    await producer.start()
    try:
        for item in changes:
            key, value, headers = to_kafka(item)
            await producer.send_and_wait(kafka.indicators_topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def counter(url: str, metric: str, channel: str) -> float:
    """One channel's value of a notifications counter on a running alerts service."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and sample.labels.get("channel") == channel:
                return float(sample.value)
    return 0.0


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Until `check()` is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition never met"
        await asyncio.sleep(0.1)
