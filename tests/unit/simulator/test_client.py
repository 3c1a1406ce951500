"""The sender: batches, token, retries on 503 after Retry-After, readable refusals."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from iprwatch.simulator.client import SendError, SendOptions, find_token, retry_after, send
from iprwatch.stack.home import StackHome


def events(n: int) -> list[dict[str, object]]:
    return [{"id": str(i)} for i in range(n)]


async def test_batches_carry_the_token_and_the_batch_content_type() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"accepted": len(json.loads(request.content))})

    sent: list[int] = []
    options = SendOptions(url="http://ingest", token="tok", batch_size=500)  # noqa: S106
    report = await send(
        events(1201), options, on_sent=sent.append, transport=httpx.MockTransport(answer)
    )
    assert sorted(len(json.loads(r.content)) for r in seen) == [201, 500, 500]
    assert {r.headers["Authorization"] for r in seen} == {"Bearer tok"}
    assert {r.headers["Content-Type"] for r in seen} == {"application/cloudevents-batch+json"}
    assert {r.url.path for r in seen} == {"/v1/events"}
    assert (report.events, report.batches, report.retries, sorted(sent)) == (
        1201, 3, 0, [201, 500, 500],
    )  # fmt: skip


async def test_a_503_is_retried_after_its_retry_after() -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "2"}),
                    httpx.Response(503, headers={"Retry-After": "3"}),
                    httpx.Response(202, json={"accepted": 3})])  # fmt: skip
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    report = await send(
        events(3), SendOptions(url="http://ingest", concurrency=1),
        transport=httpx.MockTransport(lambda _: next(answers)), sleep=sleep,
    )  # fmt: skip
    assert (report.events, report.retries, waits) == (3, 2, [2.0, 3.0])


async def test_connection_errors_back_off_then_give_up_readably() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(SendError, match="still unavailable after 10s"):
        await send(
            events(1), SendOptions(url="http://ingest", give_up_after=10, concurrency=1),
            transport=httpx.MockTransport(refuse), sleep=sleep,
        )  # fmt: skip
    assert waits == [0.5, 1.0, 2.0, 4.0]  # the next pause (5 s) would pass 10 s


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(401, json={"detail": "no"}), "refused the token \\(HTTP 401\\)"),
        (
            httpx.Response(422, json={"errors": [{"index": 0, "field": "data.district"}]}),
            "rejected the batch \\(HTTP 422\\): {'index': 0, 'field': 'data.district'}",
        ),
    ],
)
async def test_refusals_stop_the_run_with_the_reason(
    response: httpx.Response, message: str
) -> None:
    with pytest.raises(SendError, match=message):
        await send(
            events(2), SendOptions(url="http://ingest"),
            transport=httpx.MockTransport(lambda _: response),
        )  # fmt: skip


def test_retry_after_reads_seconds_or_a_date() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) == 1.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after("soon") == 1.0


def test_token_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = StackHome(tmp_path)
    monkeypatch.delenv("IPRWATCH_TOKEN", raising=False)
    assert find_token(None, home) is None
    (tmp_path / "simulator.token").write_text("from-file\n")
    assert find_token(None, home) == "from-file"
    monkeypatch.setenv("IPRWATCH_TOKEN", "from-env")
    assert find_token(None, home) == "from-env"
    assert find_token("explicit", home) == "explicit"


async def test_a_rate_holds_the_sender_back() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    await send(
        events(1200), SendOptions(url="http://ingest", batch_size=500, rate=100, concurrency=1),
        transport=httpx.MockTransport(lambda _: httpx.Response(202, json={"accepted": 500})),
        sleep=sleep,
    )  # fmt: skip
    # 100 events/s: the 2nd batch (events 500-999) is due at 5 s, the 3rd (200 left) at 10 s.
    assert [round(w) for w in waits] == [5, 10]
