"""One event type through all three services on the real broker and database."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.support.metrics import wait_for_sample
from tests.support.services import RunningServices

pytestmark = pytest.mark.e2e


def grant(n: int, district: str, high_value: bool, day: str = "2023-05-12") -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"cnipa-skeleton-{n}",
        "source": "/registries/cnipa/patents",
        "type": "cn.ipr.patent.invention.granted",
        "subject": f"ZL2023101234{n:02d}.7",
        "time": f"{day}T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": {"district": district, "high_value": high_value},
    }


async def test_events_posted_over_http_show_on_indicators_metrics(
    services: RunningServices,
) -> None:
    events = [grant(n, "500112", high_value=n < 2) for n in range(5)]
    events.append(grant(90, "500111", high_value=False))
    events.append(grant(91, "500111", high_value=False, day="2020-06-01"))  # in the baseline
    async with httpx.AsyncClient(timeout=30) as client:
        first = await client.post(
            f"{services.ingest}/v1/events", json=events[:4], headers=services.auth_headers
        )
        second = await client.post(
            f"{services.ingest}/v1/events", json=events[4:], headers=services.auth_headers
        )
        again = await client.post(
            f"{services.ingest}/v1/events", json=events[:2], headers=services.auth_headers
        )  # duplicates
    assert (first.status_code, first.json()) == (202, {"accepted": 4})
    assert (second.status_code, second.json()) == (202, {"accepted": 3})
    assert again.status_code == 202

    expected = {
        ("500112", "valid_invention_patents"): 5.0,
        ("500112", "high_value_invention_patents"): 2.0,
        ("500111", "valid_invention_patents"): 1.0,
        ("500000", "valid_invention_patents"): 35006.0,
    }
    samples = await wait_for_sample(
        f"{services.indicators}/metrics", "ipr_indicator_value", expected, timeout=60
    )
    for labels, value in expected.items():
        assert samples[labels] == value, labels


async def test_alerts_receives_the_indicator_changes(services: RunningServices) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{services.ingest}/v1/events",
            json=[grant(7, "500101", True)],
            headers=services.auth_headers,
        )
    assert response.status_code == 202
    log = services.logs / "alerts.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if '"district": "500101"' in text and "high_value_invention_patents" in text:
            break
        await asyncio.sleep(0.3)
    else:
        raise AssertionError(f"alerts never logged the change:\n{text[-2000:]}")
