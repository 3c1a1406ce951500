"""Slow clients against the running service (a process on the real broker): a connection that
sends its headers or its body too slowly, or nothing at all, gets a 408 and is closed after the
deadline, and nothing of such a request is published."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from iprwatch.stack.stack import Endpoints
from services.ingest.adapters.tokens import TokenStore
from shared.events import EXAMPLES
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import IngestProcess, ingest_process, read_topic

pytestmark = pytest.mark.integration
HEADER_TIMEOUT, BODY_TIMEOUT = 1.0, 2.0
RESET = b"(connection reset)"
SLACK = 5.0  # a loaded machine may be late to close; "held forever" is what must not happen


@pytest.fixture
def ingest(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> Iterator[tuple[IngestProcess, str]]:
    token = TokenStore(tmp_path / "tokens.json").add("slow", ["*"], ["*"])
    env = {
        "IPRWATCH_INGEST_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "IPRWATCH_INGEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    with ingest_process(infra, kafka_settings, tmp_path, env) as process:
        yield process, token


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    sock.settimeout(0.2)
    return sock


def drip_until_closed(sock: socket.socket, data: bytes, every: float, limit: float) -> bytes:
    """Send `data` a byte every `every` seconds (looping) until the server closes the connection;
    return what it answered. Fails if it is still open after `limit` seconds."""
    answer = b""
    deadline = time.monotonic() + limit
    position = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
        except TimeoutError:
            pass
        except ConnectionResetError:  # closed while we still sent: the 408 may be lost to it
            return answer or RESET
        if every:
            try:
                sock.send(data[position % len(data) : position % len(data) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return answer + _rest(sock)
            position += 1
            time.sleep(every)
    raise AssertionError(f"the connection was still open after {limit:g}s; answer {answer!r}")


def _rest(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536) or RESET
    except OSError:
        return RESET


def request_head(url: str, token: str, length: int) -> bytes:
    host = urlsplit(url).netloc
    return (
        f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/cloudevents+json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def assert_timed_out(answer: bytes, started: float, deadline: float) -> None:
    took = time.monotonic() - started
    if answer != RESET:  # a client still sending when the server closes may get a reset only
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
        assert b"connection: close" in answer.lower()
    assert deadline - 0.05 <= took <= deadline + SLACK, took


async def test_slow_or_silent_clients_are_answered_408_and_closed_after_the_deadline(
    ingest: tuple[IngestProcess, str], kafka_settings: KafkaSettings
) -> None:
    process, token = ingest
    body = json.dumps(EXAMPLES["cn.ipr.patent.invention.granted"]).encode()

    # silent: connects and sends nothing
    started = time.monotonic()
    with connect(process.url) as sock:
        answer = drip_until_closed(sock, b"", 0, 10)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
        assert_timed_out(answer, started, HEADER_TIMEOUT)

    # headers a byte every 0.1 s: the deadline is a total, not an idle time
    started = time.monotonic()
    with connect(process.url) as sock:
        head = request_head(process.url, token, len(body))
        assert_timed_out(drip_until_closed(sock, head, 0.1, 10), started, HEADER_TIMEOUT)

    # whole headers, then half of the body and nothing more
    with connect(process.url) as sock:
        sock.sendall(request_head(process.url, token, len(body)) + body[: len(body) // 2])
        started = time.monotonic()
        assert_timed_out(drip_until_closed(sock, b"", 0, 10), started, BODY_TIMEOUT)

    # whole headers, then the body a byte every 0.1 s
    with connect(process.url) as sock:
        sock.sendall(request_head(process.url, token, len(body)))
        started = time.monotonic()
        assert_timed_out(drip_until_closed(sock, body, 0.1, 10), started, BODY_TIMEOUT)

    # nothing of those requests was published; a prompt client is served on the same server,
    # twice over one kept-alive connection
    async with httpx.AsyncClient(base_url=process.url) as client:
        for n in range(2):
            event = {**EXAMPLES["cn.ipr.patent.invention.granted"], "id": f"prompt-{n}"}
            response = await client.post(
                "/v1/events", json=event, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 202, response.text
    records = await read_topic(kafka_settings, kafka_settings.events_topic)
    assert sorted(r.event.id for r in records) == ["prompt-0", "prompt-1"]


async def test_an_early_answer_stands_and_a_slow_body_after_it_is_only_cut_off(
    ingest: tuple[IngestProcess, str],
) -> None:
    """A request answered before its body is read (a wrong token: 401) does not get a second
    answer when its body then trickles in too slowly: the connection is only closed."""
    process, _ = ingest
    with connect(process.url) as sock:
        sock.sendall(request_head(process.url, "iprw_wrong", 1000) + b"{")
        started = time.monotonic()
        answer = drip_until_closed(sock, b" ", 0.1, 10)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 401 Unauthorized\r\n"), answer
    assert answer.count(b"HTTP/1.1") == 1, answer
    assert BODY_TIMEOUT - 0.05 <= took <= BODY_TIMEOUT + SLACK, took
