"""The alerts service's API as a division's page reads it (implements
`service.ports.CurrentAlerts`): `GET /v1/alerts?plan=&district=`, the pending and firing ones.

Whatever goes wrong (no address set, nothing listening, a slow or refusing answer, JSON of
another shape) is an answer too, `unconfigured` or `unavailable`, never an exception: the page
says so and renders all the same. The whole request, connection included, is bounded by one
timeout (1 s by default).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx

from services.indicators.service.ports import AlertsAnswer, CurrentAlert

log = logging.getLogger(__name__)
SHOWN_STATES = ("pending", "firing")


class HttpCurrentAlerts:
    def __init__(
        self,
        base_url: str | None,
        token: str | None = None,
        timeout: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = None if not base_url else base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = (
            None
            if self.base_url is None
            else httpx.AsyncClient(headers=headers, timeout=timeout, transport=transport)
        )

    async def current(self, plan: str, district: str) -> AlertsAnswer:
        if self.client is None or self.base_url is None:
            return AlertsAnswer("unconfigured")
        url = f"{self.base_url}/v1/alerts"
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.get(url, params={"plan": plan, "district": district})
            if response.status_code != 200:
                return self._unavailable(url, f"HTTP {response.status_code}")
            return AlertsAnswer("ok", tuple(_alerts(response.json())))
        except (httpx.HTTPError, TimeoutError) as exc:
            return self._unavailable(url, f"{type(exc).__name__}: {exc or 'no answer'}")
        except (ValueError, TypeError, KeyError) as exc:  # not JSON, or not the alerts' shape
            return self._unavailable(url, f"unexpected answer: {type(exc).__name__}: {exc}")

    def _unavailable(self, url: str, reason: str) -> AlertsAnswer:
        log.warning(
            "the alerts API did not answer a division page",
            extra={"url": url, "error": reason[:300]},
        )
        return AlertsAnswer("unavailable", reason=reason[:300])

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def _alerts(answer: Any) -> list[CurrentAlert]:
    if not isinstance(answer, list):
        raise TypeError(f"a list of alerts expected, not {type(answer).__name__}")
    found = []
    for item in answer:
        if item["state"] not in SHOWN_STATES:
            continue
        since = item.get("firing_since") or item.get("active_since")
        found.append(
            CurrentAlert(
                indicator=str(item["indicator"]),
                state=str(item["state"]),
                status=str(item["status"]),
                since=None if since is None else datetime.fromisoformat(since),
                value=_number(item.get("value")),
                required=_number(item.get("required")),
                month=item.get("month"),
            )
        )
    return found


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
