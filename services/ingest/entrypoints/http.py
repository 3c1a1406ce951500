"""The registry-facing HTTP API: POST /v1/events, plus the operational endpoints.

Order of checks for a write: token (401), content type (415), size (413), JSON (400),
batch size (413), scope (403), validation of the whole batch (422), Kafka (503), then 202.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from services.ingest.bootstrap import Ingest, running
from services.ingest.domain.binding import (
    BadRequest,
    TooManyEvents,
    UnsupportedMediaType,
    raw_events,
)
from services.ingest.domain.grants import TokenGrant
from services.ingest.domain.validation import EventProblem, InvalidEvents, OutOfScope, listed
from services.ingest.entrypoints.middleware import RequestContext
from services.ingest.entrypoints.openapi import (
    NO_ANSWER,
    operation,
    ready_answers,
    with_plan_districts,
)
from services.ingest.metrics import IngestMetrics
from services.ingest.service.authentication import Unauthenticated, authenticate
from services.ingest.service.ports import BrokerUnavailable, TokenLookup, TokensUnreadable
from services.ingest.settings import IngestSettings
from shared.ops import ops_router

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than 202: its status, a message and, where useful, per-event errors."""

    def __init__(
        self,
        status: int,
        detail: str,
        problems: Sequence[EventProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.problems, self.headers = status, detail, problems, headers

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.detail}
        if self.problems is not None:  # at most the first MAX_LISTED, each clipped: a small answer
            body["errors"] = listed(self.problems)
            body["total"] = len(self.problems)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


Starter = Callable[[IngestSettings, IngestMetrics], AbstractAsyncContextManager[Ingest]]


def create_app(
    settings: IngestSettings, metrics: IngestMetrics | None = None, start: Starter = running
) -> FastAPI:
    """The app; `start` builds the running intake in the lifespan (tests pass fakes)."""
    metrics = metrics or IngestMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with start(settings, metrics) as ingest:
            app.state.ingest = ingest
            metrics.worker_started()
            try:
                yield
            finally:
                metrics.worker_stopped()

    app = FastAPI(
        title="IPR Watch ingest",
        version="1",
        description="Registry systems push CloudEvents 1.0 here; each is published to Kafka. "
        "A 202 means Kafka holds every event of the request; after a 4xx none was published. "
        + NO_ANSWER,
        lifespan=lifespan,
    )

    async def ready() -> dict[str, bool]:
        ingest: Ingest | None = getattr(app.state, "ingest", None)
        return {"kafka": ingest is not None and await ingest.kafka_reachable()}

    app.include_router(ops_router(metrics.exposition, ready))
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    openapi_extra, components = operation()

    @app.post(
        "/v1/events",
        status_code=202,
        summary="Publish registration events",
        openapi_extra=openapi_extra,
        tags=["events"],
    )
    async def post_events(request: Request) -> JSONResponse:
        ingest: Ingest = request.app.state.ingest
        grant = _authenticate(ingest.tokens, request.headers.get("authorization"))
        content_type = request.headers.get("content-type")
        body = await _read_body(request, settings.max_body_bytes)
        try:
            events = raw_events(content_type, request.headers, body, settings.max_batch_events)
        except UnsupportedMediaType as exc:
            _count(metrics, "unsupported_media_type")
            raise ApiError(415, str(exc)) from exc
        except TooManyEvents as exc:
            _count(metrics, "too_many_events")
            raise ApiError(413, str(exc)) from exc
        except BadRequest as exc:
            _count(metrics, "malformed")
            raise ApiError(400, str(exc)) from exc
        try:
            accepted = await ingest.intake.accept(events, grant)
        except OutOfScope as exc:
            raise ApiError(403, str(exc), exc.problems) from exc
        except InvalidEvents as exc:
            raise ApiError(422, str(exc), exc.problems) from exc
        except BrokerUnavailable as exc:
            log.warning("publishing failed: %s", exc)
            raise ApiError(
                503,
                "Kafka is unavailable: nothing of this request is acknowledged; retry later",
                headers={"Retry-After": str(settings.retry_after_seconds)},
            ) from exc
        return JSONResponse({"accepted": accepted}, status_code=202)

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a registry system's token (`iprwatch tokens add`)"}
            }  # fmt: skip
            running: Ingest | None = getattr(app.state, "ingest", None)
            plans = running.plans if running is not None else settings.plan.load()
            app.openapi_schema = ready_answers(with_plan_districts(schema, plans.event_codes()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(RequestContext, metrics=metrics)
    return app


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return exc.response()


def _count(metrics: IngestMetrics, reason: str) -> None:
    metrics.events_rejected.labels("unknown", reason).inc()


def _authenticate(tokens: TokenLookup, header: str | None) -> TokenGrant:
    try:
        return authenticate(tokens, header)
    except TokensUnreadable as exc:
        log.error("the tokens file cannot be read: %s", exc)
        raise ApiError(503, "the ingest service's token configuration is unreadable") from exc
    except Unauthenticated as exc:
        challenge = {"WWW-Authenticate": 'Bearer realm="iprwatch-ingest"'}
        raise ApiError(401, str(exc), headers=challenge) from exc


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"body over the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect as exc:  # nobody is left to answer; nothing was published
        raise ApiError(400, "the client went away before sending the whole body") from exc
    return b"".join(chunks)
