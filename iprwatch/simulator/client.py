"""Sending events to ingest as a registry system would: batches, a token, retries, a rate.

The HTTP part is `shared.ingest_client.IngestClient`, the same client `iprwatch import` uses:
a batch answered 429 or 503 is sent again after its `Retry-After` (seconds or an HTTP-date), a
connection error, a timeout or another 5xx after a growing pause. Resending is safe: the fold
drops an event whose (source, id) it already has. A rejected token or an invalid event stops
the run with the server's explanation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.ingest_client import (
    BATCH_CONTENT_TYPE,
    DEFAULT_URL,
    TOKEN_ENV,
    IngestClient,
    IngestUnavailable,
    client_token,
    ingest_url,
    retry_after,
)

__all__ = [
    "BATCH_CONTENT_TYPE",
    "SendError",
    "SendOptions",
    "SendReport",
    "find_token",
    "ingest_url",
    "retry_after",
    "send",
    "token_in",
]
from iprwatch.stack.home import StackHome

TOKEN_FILE = "simulator.token"  # noqa: S105 - a file name


class SendError(Exception):
    """The run cannot go on: the message says why and what to do."""


@dataclass(frozen=True)
class SendOptions:
    url: str = DEFAULT_URL
    token: str | None = None
    batch_size: int = 500
    rate: float | None = None  # events per second; None = as fast as possible
    concurrency: int = 4
    give_up_after: float = 300.0  # seconds of waiting to retry one batch before failing the run
    timeout: float = 30.0


@dataclass
class SendReport:
    events: int = 0
    batches: int = 0
    retries: int = 0
    seconds: float = 0.0
    started: float = 0.0  # time.monotonic() when sending began (the first batch went out)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def find_token(explicit: str | None = None, home: StackHome | None = None) -> str | None:
    """`--token`, else `$IPRWATCH_TOKEN`, else the stack's `simulator.token` file, else None."""
    return client_token(explicit, (home or StackHome.default()).root / TOKEN_FILE)


def token_in(file: Path) -> str | None:
    """The token written in `file` (the stack writes `simulator.token`), None if none."""
    try:
        return file.read_text().strip() or None
    except FileNotFoundError:
        return None


async def send(
    events: Iterable[Mapping[str, Any]],
    options: SendOptions,
    on_sent: Callable[[int], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> SendReport:
    """Post every event, in batches, with `options.concurrency` batches in flight."""
    report = SendReport()
    started = report.started = time.monotonic()
    queue: asyncio.Queue[list[Mapping[str, Any]] | None] = asyncio.Queue(options.concurrency * 2)
    async with IngestClient(
        options.url, options.token, timeout=options.timeout,
        give_up_after=options.give_up_after, transport=transport, sleep=sleep,
    ) as client:  # fmt: skip

        async def worker() -> None:
            while (batch := await queue.get()) is not None:
                await _post(client, batch, options)
                report.events += len(batch)
                report.batches += 1
                if on_sent is not None:
                    on_sent(len(batch))

        workers = [asyncio.create_task(worker()) for _ in range(options.concurrency)]
        try:
            queued = 0
            batch: list[Mapping[str, Any]] = []
            for event in events:
                batch.append(event)
                if len(batch) == options.batch_size:
                    await _pace(queued, started, options, sleep)  # due once `queued` are out
                    await _put(queue, batch, workers)
                    queued += len(batch)
                    batch = []
            if batch:
                await _pace(queued, started, options, sleep)
                await _put(queue, batch, workers)
            for _ in workers:
                await _put(queue, None, workers)
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            report.retries = client.retries
    report.seconds = time.monotonic() - started
    return report


async def _put(
    queue: asyncio.Queue[list[Mapping[str, Any]] | None],
    item: list[Mapping[str, Any]] | None,
    workers: list[asyncio.Task[None]],
) -> None:
    """Queue a batch, but surface a worker's failure instead of waiting on a full queue."""
    put = asyncio.ensure_future(queue.put(item))
    while not put.done():
        await asyncio.wait([put, *workers], return_when=asyncio.FIRST_COMPLETED)
        for task in workers:
            if task.done() and task.exception() is not None:
                put.cancel()
                raise task.exception()  # type: ignore[misc]


async def _pace(
    queued: int,
    started: float,
    options: SendOptions,
    sleep: Callable[[float], Any],
) -> None:
    """Hold the producer back to `options.rate` events per second."""
    if options.rate:
        ahead = started + queued / options.rate - time.monotonic()
        if ahead > 0:
            await sleep(ahead)


async def _post(client: IngestClient, batch: list[Mapping[str, Any]], options: SendOptions) -> None:
    try:
        response = await client.post_events(batch)
    except IngestUnavailable as exc:
        raise SendError(str(exc)) from None
    if response.status_code != 202:
        raise SendError(_refusal(response, options))


def _refusal(response: httpx.Response, options: SendOptions) -> str:
    status = response.status_code
    if status in (401, 403):
        return (
            f"ingest refused the token (HTTP {status}): give one with --token, "
            f"${TOKEN_ENV} or the stack's {TOKEN_FILE} file"
            + ("" if options.token else " (none was found)")
        )
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    if status == 422 and isinstance(body, dict) and body.get("errors"):
        first = "; ".join(str(e) for e in body["errors"][:3])
        return f"ingest rejected the batch (HTTP 422): {first}"
    return f"ingest answered HTTP {status}: {body}"
