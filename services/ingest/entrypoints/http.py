"""The registry-facing HTTP API: POST /v1/events, plus the operational endpoints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ingest.bootstrap import Ingest, running
from services.ingest.domain.validation import InvalidEvents
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.ops import ops_router


def create_app(settings: IngestSettings) -> FastAPI:
    metrics = IngestMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, metrics) as ingest:
            app.state.ingest = ingest
            yield

    app = FastAPI(title="IPR Watch ingest", version="1", lifespan=lifespan)

    async def ready() -> dict[str, bool]:
        ingest: Ingest | None = getattr(app.state, "ingest", None)
        if ingest is None:
            return {"kafka": False}
        return {"kafka": await _kafka_reachable(ingest)}

    app.include_router(ops_router(metrics.registry, ready))

    @app.post("/v1/events", status_code=202)
    async def post_events(request: Request) -> JSONResponse:
        ingest: Ingest = request.app.state.ingest
        body = await request.body()
        try:
            parsed: Any = json.loads(body)
        except json.JSONDecodeError as exc:
            return JSONResponse({"detail": f"malformed JSON: {exc}"}, status_code=400)
        raw_events = parsed if isinstance(parsed, list) else [parsed]
        try:
            accepted = await ingest.intake.accept(raw_events)
        except InvalidEvents as exc:
            errors = [vars(p) for p in exc.problems]
            return JSONResponse({"detail": "invalid events", "errors": errors}, status_code=422)
        return JSONResponse({"accepted": accepted}, status_code=202)

    return app


async def _kafka_reachable(ingest: Ingest) -> bool:
    try:
        await ingest.producer.client.fetch_all_metadata()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True
