"""A plain ASGI middleware: a request id for every request (taken from `X-Request-ID` or made),
set in the logs' context and echoed back, and the HTTP metrics by route, method and status."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ingest.metrics import IngestMetrics
from shared.telemetry import request_id

log = logging.getLogger("services.ingest.http")
HEADER = b"x-request-id"
EVENTS_ROUTE = "/v1/events"  # every write is logged; probes and scrapes only when they fail


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: IngestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"").decode("latin-1")
        rid = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.http_requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.http_seconds.labels(path).observe(elapsed)
            if status >= 400 or path == EVENTS_ROUTE:
                log.info(
                    "%s %s -> %d", scope["method"], scope["path"], status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2),
                           "request_id": rid},
                )  # fmt: skip
            request_id.reset(token)
