"""The shared ingest client: 429 and 503 after Retry-After (seconds or HTTP-date), backoff on
5xx and connection errors, the final answer handed back, a readable give-up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from shared.ingest_client import IngestClient, IngestUnavailable, retry_after


def test_retry_after_in_both_forms() -> None:
    now = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC).timestamp()
    assert retry_after("7", now=now) == 7.0
    assert retry_after("Sun, 01 Mar 2026 08:00:30 GMT", now=now) == 30.0
    assert retry_after("Sun, 01 Mar 2026 07:59:00 GMT", now=now) == 0.0  # past: at once
    assert retry_after("soon", now=now) == 1.0
    assert retry_after(None) == 1.0
    assert retry_after("-3") == 0.0


async def test_429_and_503_wait_as_told_then_the_answer_is_returned() -> None:
    in_12s = format_datetime(datetime.fromtimestamp(time.time() + 12, UTC), usegmt=True)
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503, headers={"Retry-After": in_12s}),
        httpx.Response(500),
        httpx.Response(422, json={"errors": [{"index": 0}]}),
    ])  # fmt: skip
    waits: list[float] = []
    retried: list[str] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with IngestClient(
        "http://ingest", "tok", transport=httpx.MockTransport(lambda _: next(answers)),
        sleep=sleep, on_retry=lambda why, _: retried.append(why),
    ) as client:  # fmt: skip
        response = await client.post_events([{"id": "1"}])
    assert response.status_code == 422
    assert (waits[0], waits[2]) == (3.0, 2.0)  # the 500: the 3rd pause, 0.5 s doubled twice
    assert 11.0 < waits[1] <= 12.0  # an HTTP-date has whole seconds
    assert retried == ["HTTP 429", "HTTP 503", "HTTP 500"]
    assert client.retries == 3


async def test_an_unreachable_service_is_given_up_readably() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with IngestClient("http://ingest", give_up_after=10, sleep=sleep,
                            transport=httpx.MockTransport(refuse)) as client:  # fmt: skip
        with pytest.raises(IngestUnavailable, match="still unavailable after 10s \\(ConnectError"):
            await client.post_events([{"id": "1"}])
    assert waits == [0.5, 1.0, 2.0, 4.0]


async def test_the_importer_holds_back_to_its_rate() -> None:
    import io

    from services.ingest.service.sending import Pending, Sender, Summary
    from shared.plan import default_plan_path, load_plan

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    answer = httpx.MockTransport(lambda _: httpx.Response(202, json={"accepted": 1}))
    async with IngestClient("http://ingest", transport=answer) as client:
        sender = Sender(client, load_plan(default_plan_path()), Summary(),
                                 io.StringIO(), rate=100, sleep=sleep)  # fmt: skip
        pending = [Pending(n, "", {"id": str(n)}) for n in range(500)]
        for _ in range(3):
            await sender.send(pending)
    # 100 events/s: the 2nd batch of 500 is due 5 s after the start, the 3rd 10 s after
    assert [round(w) for w in waits] == [5, 10]
    assert sender.summary.accepted == 1500
