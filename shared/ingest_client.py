"""The one HTTP client for `POST /v1/events`: the simulator and `iprwatch import` both use it.

`IngestClient.post_events` sends one batch and answers the service's first final response
(202, or a refusal the caller interprets: 401/403/413/422). What is worth another try is
tried again, by tenacity:

- 429 and 503 after their `Retry-After` (delta-seconds or an HTTP-date, RFC 9110 §10.2.3);
- other 5xx, connection errors and timeouts after a growing pause (0.5 s, doubled, at most 5 s).

It gives up (`IngestUnavailable`) once the pauses of one batch would exceed `give_up_after`
seconds. Resending is safe: the fold counts an event once by (`source`, `id`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from tenacity import AsyncRetrying, RetryCallState

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
DEFAULT_URL = "http://127.0.0.1:8001"
URL_ENV = "IPRWATCH_INGEST_URL"
TOKEN_ENV = "IPRWATCH_TOKEN"  # noqa: S105 - a variable name
EVENTS_PATH = "/v1/events"
RETRY_AFTER_STATUSES = frozenset({429, 503})
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 5.0

Sleep = Callable[[float], Awaitable[Any]]


class IngestUnavailable(Exception):
    """Ingest kept answering 429/5xx or could not be reached for longer than allowed."""

    def __init__(self, url: str, seconds: float, why: str) -> None:
        super().__init__(
            f"ingest at {url} still unavailable after {seconds:.0f}s ({why}); "
            "is the stack up? (`iprwatch stack status`)"
        )
        self.why = why


def ingest_url(explicit: str | None = None) -> str:
    """`--url`, else `$IPRWATCH_INGEST_URL`, else the local stack's ingest."""
    return (explicit or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def client_token(explicit: str | None, token_file: Path) -> str | None:
    """A client's bearer token: `--token`, else `$IPRWATCH_TOKEN`, else the first line of
    `token_file` (the local stack's `simulator.token`), else None."""
    for given in (explicit, os.environ.get(TOKEN_ENV)):
        if given and given.strip():
            return given.strip()
    try:
        return token_file.read_text().strip() or None
    except OSError:
        return None


def retry_after(value: str | None, default: float = 1.0, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return default
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retryable(response: httpx.Response) -> bool:
    return response.status_code in RETRY_AFTER_STATUSES or response.status_code >= 500


def _why(state: RetryCallState) -> str:
    outcome = state.outcome
    if outcome is None:
        return "no answer"
    if outcome.failed:
        exc = outcome.exception()
        return f"{type(exc).__name__}: {exc}"
    return f"HTTP {outcome.result().status_code}"


class IngestClient:
    """An async client of one ingest service, with its token; use as `async with`."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        give_up_after: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        on_retry: Callable[[str, float], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.give_up_after = give_up_after
        self.retries = 0
        self._sleep = sleep
        self._on_retry = on_retry
        headers = {"Content-Type": BATCH_CONTENT_TYPE}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post_events(self, batch: Sequence[Mapping[str, Any]]) -> httpx.Response:
        """POST one batch until the service gives a final answer; return that answer."""
        body = json.dumps(list(batch), ensure_ascii=False).encode()
        retrying = AsyncRetrying(
            retry=self._should_retry,
            wait=self._wait,
            stop=self._stop,
            sleep=self._sleep,
            before_sleep=self._count,
            retry_error_callback=self._give_up,
        )
        response: httpx.Response = await retrying(self._http.post, EVENTS_PATH, content=body)
        return response

    # --- tenacity's policy ----------------------------------------------------------------------

    @staticmethod
    def _should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            return isinstance(outcome.exception(), httpx.TransportError)
        return _retryable(outcome.result())

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response: httpx.Response = outcome.result()
            if response.status_code in RETRY_AFTER_STATUSES:
                return retry_after(response.headers.get("Retry-After"))
        return min(FIRST_PAUSE * 2.0 ** (state.attempt_number - 1), LONGEST_PAUSE)

    def _stop(self, state: RetryCallState) -> bool:
        return state.idle_for + self._wait(state) > self.give_up_after

    def _give_up(self, state: RetryCallState) -> httpx.Response:
        raise IngestUnavailable(self.url, self.give_up_after, _why(state))

    def _count(self, state: RetryCallState) -> None:
        self.retries += 1
        if self._on_retry is not None:
            wait = state.next_action.sleep if state.next_action else 0.0
            self._on_retry(_why(state), wait)
