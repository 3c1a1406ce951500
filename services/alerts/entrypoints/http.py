"""The alerts HTTP API and operational endpoints.

The server answers from its first second: while the service still waits for PostgreSQL or
Kafka, `/readyz` says so (503) and the API answers 503 with `Retry-After`. The start-up itself
runs in the background and retries with backoff (`bootstrap.running`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from services.alerts.bootstrap import Alerts, running
from services.alerts.entrypoints.api import api_router
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared import unavailable
from shared.kafka import consumer_reaches_broker
from shared.ops import ops_router
from shared.postgres import is_reachable
from shared.read_access import ReadAccess, ReadAccessSettings

log = logging.getLogger(__name__)


def create_app(settings: AlertsSettings, read_access: ReadAccess | None = None) -> FastAPI:
    metrics = AlertMetrics()
    read_access = read_access or ReadAccessSettings().access()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()

        async def serve() -> None:
            try:
                async with running(settings, metrics) as alerts:
                    app.state.alerts = alerts
                    log.info("alerts service started")
                    await stop.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.critical("the alerts service could not start: stopping", exc_info=True)
                signal.raise_signal(signal.SIGTERM)  # uvicorn shuts down in order
            finally:
                app.state.alerts = None

        task = asyncio.create_task(serve(), name="alerts:start")
        try:
            yield
        finally:
            if getattr(app.state, "alerts", None) is None:
                task.cancel()  # still waiting for its database or broker: nothing in flight
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="IPR Watch alerts", version="1", lifespan=lifespan)
    app.state.alerts = None

    async def ready() -> dict[str, bool]:
        alerts: Alerts | None = getattr(app.state, "alerts", None)
        if alerts is None:
            return {"kafka": False, "postgres": False}
        return {
            # a standby replica reads no topic: only the leader needs the broker
            "kafka": alerts.consumer is None or await consumer_reaches_broker(alerts.consumer),
            "postgres": await is_reachable(alerts.pool),
            **alerts.supervisor.checks(),
        }

    app.include_router(ops_router(metrics.registry, ready))
    app.include_router(api_router(read_access))
    unavailable.install(app)
    app.add_exception_handler(StarletteHTTPException, _with_every_allowed_method)
    return app


async def _with_every_allowed_method(request: Request, exc: Exception) -> Response:
    """A 405 names every method the OpenAPI document gives the path (Starlette names only
    the first route's)."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type
    if exc.status_code == 405:
        paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
        methods = sorted(
            method.upper()
            for template, operations in paths.items()
            if compile_path(template)[0].match(request.url.path)
            for method in operations
        )
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)
