"""Reading Prometheus samples from a running service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def samples_of(
    url: str, metric: str, plan: str = "chongqing-14th-fyp"
) -> dict[tuple[str, str], float]:
    """(district, indicator) -> value of one metric, as the service exposes it now; of
    `plan`'s samples where the metric has a `plan` label."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(url)).text
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and sample.labels.get("plan", plan) == plan:
                found[(sample.labels["district"], sample.labels["indicator"])] = sample.value
    return found


async def wait_for_sample(
    url: str,
    metric: str,
    expected: Mapping[tuple[str, str], float],
    timeout: float,
) -> dict[tuple[str, str], float]:
    """Poll until every expected sample has its value (or time runs out); return the last read."""
    deadline = time.monotonic() + timeout
    while True:
        found = await samples_of(url, metric)
        if all(found.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)
