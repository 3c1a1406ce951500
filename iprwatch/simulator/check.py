"""Comparing what the indicators service shows with the ground truth; reading the alert mail.

Used by `iprwatch demo` (to wait until the pipeline has caught up) and by the end-to-end test.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.plan import Plan, default_plan_path, load_plan

Values = dict[tuple[str, str], float | None]


@functools.cache
def truth_plan() -> Plan:
    """The plan the simulator's ground truth is computed for (its values, in its months)."""
    return load_plan(default_plan_path())


def expected_values(truth: Mapping[str, Any], plan: Plan | None = None) -> Values:
    """(district, indicator) -> the plan's expected value now (None: unknown).

    A plan counts no month past its target month: once the simulated history runs past it,
    the plan's values are those of its target month.
    """
    plan = plan or truth_plan()
    last = min(truth["as_of_month"], f"{plan.target_date:%Y-%m}")
    found: Values = {}
    for district, by_indicator in truth["series"].items():
        for indicator, by_month in by_indicator.items():
            months = [m for m in by_month if m <= last]
            found[(district, indicator)] = by_month[max(months)] if months else None
    for district, by_indicator in truth["values"].items():
        for indicator in by_indicator:
            found.setdefault((district, indicator), None)
    return found


async def api_values(client: httpx.AsyncClient, indicators_url: str) -> Values:
    params: dict[str, str | int] = {"plan": truth_plan().id, "limit": 1000}
    response = await client.get(f"{indicators_url}/v1/indicators", params=params)
    response.raise_for_status()
    return {(i["district"], i["indicator"]): i["value"] for i in response.json()["items"]}


async def metric_values(client: httpx.AsyncClient, indicators_url: str) -> Values:
    """The `ipr_indicator_value` samples; a value without a sample is unknown (None)."""
    text = (await client.get(f"{indicators_url}/metrics")).text
    found: Values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ipr_indicator_value" and sample.labels["plan"] == truth_plan().id:
                found[(sample.labels["district"], sample.labels["indicator"])] = sample.value
    return found


def differences(expected: Values, actual: Values, where: str) -> list[str]:
    """One line per (district, indicator) whose value differs (missing counts as unknown)."""
    lines = []
    for key in sorted(expected):
        want, got = expected[key], actual.get(key)
        if want != got:
            lines.append(f"{where}: {key[0]} {key[1]}: expected {want}, got {got}")
    return lines


async def compare(indicators_url: str, truth: Mapping[str, Any]) -> list[str]:
    """Every difference between the ground truth and the API and `/metrics` (empty: equal)."""
    expected = expected_values(truth)
    async with httpx.AsyncClient(timeout=30) as client:
        api = await api_values(client, indicators_url)
        metrics = await metric_values(client, indicators_url)
    return differences(expected, api, "API") + differences(expected, metrics, "/metrics")


async def wait_caught_up(
    indicators_url: str,
    truth: Mapping[str, Any],
    timeout: float,
    say: Callable[[str], None] = lambda _: None,
    poll: float = 1.0,
) -> list[str]:
    """Poll until the values equal the ground truth; return the differences left (empty: done)."""
    deadline = time.monotonic() + timeout
    last_count = -1
    while True:
        try:
            left = await compare(indicators_url, truth)
        except httpx.HTTPError as exc:
            left = [f"indicators not answering: {exc}"]
        if not left or time.monotonic() > deadline:
            return left
        if len(left) != last_count:
            say(f"waiting for the pipeline: {len(left)} values still differ")
            last_count = len(left)
        await asyncio.sleep(poll)


async def fold_progress(indicators_url: str) -> tuple[float, float]:
    """(records folded so far, records not yet fetched) from the indicators' `/metrics`."""
    async with httpx.AsyncClient(timeout=30) as client:
        text = (await client.get(f"{indicators_url}/metrics")).text
    folded = lag = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ipr_fold_events_total":
                folded += sample.value
            elif sample.name == "ipr_fold_consumer_lag":
                lag += sample.value
    return folded, lag


async def wait_settled(
    indicators_url: str, sent: int, since: float, timeout: float, quiet: float = 5.0
) -> bool:
    """When the values cannot be compared (the stack holds other events too): wait until the
    fold has seen `sent` more records than `since`, has no lag, and has stood still `quiet` s."""
    deadline = time.monotonic() + timeout
    last, still_since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        folded, lag = await fold_progress(indicators_url)
        if folded != last:
            last, still_since = folded, time.monotonic()
        elif lag == 0 and folded - since >= sent and time.monotonic() - still_since >= quiet:
            return True
        await asyncio.sleep(0.5)
    return False


@dataclass(frozen=True)
class Mail:
    file: Path
    to: tuple[str, ...]
    subject: str
    date: str


def read_mail(folder: Path) -> list[Mail]:
    """The mail the stack's SMTP sink received, oldest first."""
    mails = []
    for file in sorted(folder.glob("*.eml")):
        message = message_from_bytes(file.read_bytes())
        envelope = message.get("X-Envelope-To", "")
        to = tuple(a.strip().lower() for a in str(envelope).split(",") if a.strip())
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        mails.append(Mail(file, to, subject, str(message.get("Date", ""))))
    return mails


async def wait_for_mail(
    folder: Path, recipients: set[str], timeout: float, poll: float = 1.0
) -> list[Mail]:
    """Wait until each recipient has received at least one mail (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = read_mail(folder)
        reached = {address for mail in mails for address in mail.to}
        if recipients <= reached or time.monotonic() > deadline:
            return mails
        await asyncio.sleep(poll)
