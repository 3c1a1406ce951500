"""Reading what the bulletin needs over HTTP: the indicators API, and the alerts API if it answers.

Any running deployment will do: `IPRWATCH_INDICATORS_URL` (default the local stack's
http://127.0.0.1:8002) and `IPRWATCH_ALERTS_URL` (http://127.0.0.1:8003); with read tokens
enabled, `IPRWATCH_READ_TOKEN` (else the first of `IPRWATCH_READ_TOKENS`). An unreachable or
refusing indicators API stops the report with a `SourceError` that names the setting to fix;
an unreachable alerts API is only noted in the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

import httpx

from shared.plan import Plan
from shared.trajectory import month_end

INDICATORS_URL_ENV = "IPRWATCH_INDICATORS_URL"
ALERTS_URL_ENV = "IPRWATCH_ALERTS_URL"
TOKEN_ENV = "IPRWATCH_READ_TOKEN"  # noqa: S105 - a variable name
TOKENS_ENV = "IPRWATCH_READ_TOKENS"  # noqa: S105 - a variable name
DEFAULT_INDICATORS_URL = "http://127.0.0.1:8002"
DEFAULT_ALERTS_URL = "http://127.0.0.1:8003"
PAGE = 1000


class SourceError(RuntimeError):
    """The indicators API cannot give what the report needs; the message says what to fix."""


@dataclass(frozen=True)
class Endpoints:
    indicators: str
    alerts: str
    token: str | None

    @classmethod
    def from_env(
        cls, indicators: str | None = None, alerts: str | None = None, token: str | None = None
    ) -> Endpoints:
        tokens = [t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip()]
        return cls(
            indicators=(
                indicators or os.environ.get(INDICATORS_URL_ENV) or DEFAULT_INDICATORS_URL
            ).rstrip("/"),
            alerts=(alerts or os.environ.get(ALERTS_URL_ENV) or DEFAULT_ALERTS_URL).rstrip("/"),
            token=token or os.environ.get(TOKEN_ENV) or (tokens[0] if tokens else None),
        )


class Source:
    """A client of the indicators (and alerts) API for one report run."""

    def __init__(
        self,
        endpoints: Endpoints,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        headers = {"Authorization": f"Bearer {endpoints.token}"} if endpoints.token else {}
        self.client = httpx.Client(headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.close()

    def _get(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        url = f"{self.endpoints.indicators}{path}"
        where = f"the indicators API at {self.endpoints.indicators}"
        try:
            response = self.client.get(url, params=params)
        except httpx.TransportError as exc:
            raise SourceError(
                f"{where} cannot be reached ({type(exc).__name__}: {exc or 'no answer'}): start "
                f"the stack (`make up`) or set {INDICATORS_URL_ENV} to where the service runs"
            ) from None
        if response.status_code == 401:
            raise SourceError(
                f"{where} needs a read token: set {TOKEN_ENV} to one of the service's {TOKENS_ENV}"
            )
        if response.status_code == 503:
            raise SourceError(
                f"{where} answers 503 (its database is away or it is starting): retry in "
                f"{response.headers.get('Retry-After', 'a few')} seconds"
            )
        if response.status_code != 200:
            detail = _detail(response)
            raise SourceError(f"{where} refused GET {path}: {response.status_code} {detail}")
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"{where} did not answer JSON for GET {path}: is {INDICATORS_URL_ENV} the "
                "indicators service?"
            ) from None

    def plans(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/v1/plans")
        return found

    def plan(self, plan_id: str) -> Plan:
        return Plan.model_validate(self._get("/v1/plan", {"plan": plan_id}))

    def indicators(self, plan_id: str, as_of: str) -> list[dict[str, Any]]:
        """Every (division, indicator) item at the end of `as_of` (a `YYYY-MM`), page by page."""
        items: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            params: dict[str, str | int] = {
                "plan": plan_id, "as_of": as_of, "limit": PAGE, "offset": offset,
            }  # fmt: skip
            page = self._get("/v1/indicators", params)
            items += page["items"]
            offset = page.get("next_offset")
        return items

    def series(
        self, plan_id: str, district: str, indicator: str, to: str
    ) -> list[tuple[date, float]]:
        """The points up to `to` (`YYYY-MM`). Asked without `to`, as the board and the alerts
        read it: up to the latest month with data (none for a division without any), so
        that a division nobody reported on is "no data", not a run of zeros."""
        answer = self._get(
            "/v1/series", {"plan": plan_id, "district": district, "indicator": indicator}
        )
        last = month_end(to)
        points = [(month_end(p["month"]), float(p["value"])) for p in answer["points"]]
        return [p for p in points if p[0] <= last]

    def all_series(
        self,
        plan_id: str,
        keys: Sequence[tuple[str, str]],
        to: str,
        step: Callable[[], None] = lambda: None,
    ) -> dict[tuple[str, str], list[tuple[date, float]]]:
        found = {}
        for code, key in keys:
            found[(code, key)] = self.series(plan_id, code, key, to)
            step()
        return found

    def alerts(self, plan_id: str) -> tuple[list[dict[str, Any]] | None, str | None]:
        """The alerts of the plan, or (None, why) when the alerts service does not answer."""
        url = f"{self.endpoints.alerts}/v1/alerts"
        try:
            response = self.client.get(url, params={"plan": plan_id, "limit": 5000})
        except httpx.TransportError as exc:
            why = f"{url} 无法连接: {type(exc).__name__}; 设置 {ALERTS_URL_ENV}"
            return None, why
        if response.status_code != 200:
            return None, f"{url} 返回 {response.status_code}"
        try:
            return list(response.json()), None
        except ValueError:
            return None, f"{url} 未返回 JSON"


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except ValueError:
        return response.text[:200]
