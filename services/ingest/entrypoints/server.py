"""The HTTP server: uvicorn's httptools protocol with a deadline for a request's headers and one
for its body, so a client that sends slowly (or not at all) cannot hold a connection.

uvicorn times out only an idle keep-alive connection (`timeout_keep_alive`); a connection that
is still sending its headers or its body is never closed by it. Here a request has
`header_timeout` seconds from the connection (or from the first byte of a next request on a
kept-alive connection) until its headers are complete, then `body_timeout` seconds until its
body is complete: totals, not idle times, so a byte a second does not keep a request open. On
either deadline the server answers `408 Request Timeout` if nothing was answered yet, and
closes the connection. An application still waiting for the body sees a disconnect, so nothing
of such a request is published.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TIMEOUT_BODY = b'{"detail":"request not received in time: send the headers and body promptly"}'
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\nconnection: close\r\n\r\n"
    + TIMEOUT_BODY
)  # fmt: skip


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    body_timeout: float = 60.0

    def __init__(
        self, *args: Any, header_timeout: float | None = None, body_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        if header_timeout is not None:
            self.header_timeout = header_timeout
        if body_timeout is not None:
            self.body_timeout = body_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._in_body = False

    def _arm(self, seconds: float, in_body: bool) -> None:
        self._disarm()
        self._in_body = in_body
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self._in_body:  # this request's headers came: answer unless the app already did
            answer = cycle is not None and not cycle.response_started
        else:  # no request of this connection is being answered
            answer = cycle is None or cycle.response_complete
        if answer:
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, in_body=False)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a next request on a kept-alive connection
            self._arm(self.header_timeout, in_body=False)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout, in_body=True)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def deadline_protocol(
    header_timeout: float, body_timeout: float
) -> functools.partial[DeadlineProtocol]:
    """The protocol factory with these deadlines: uvicorn calls it as it would a class, and,
    unlike a class made at run time, it can be pickled into uvicorn's worker processes."""
    return functools.partial(
        DeadlineProtocol, header_timeout=header_timeout, body_timeout=body_timeout
    )
