"""The alerts HTTP API and operational endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.alerts.bootstrap import Alerts, running
from services.alerts.settings import AlertsSettings
from shared.ops import ops_router


def create_app(settings: AlertsSettings) -> FastAPI:
    registry = CollectorRegistry(auto_describe=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings) as alerts:
            app.state.alerts = alerts
            yield

    app = FastAPI(title="IPR Watch alerts", version="1", lifespan=lifespan)

    async def ready() -> dict[str, bool]:
        alerts: Alerts | None = getattr(app.state, "alerts", None)
        return {"kafka": alerts is not None}

    app.include_router(ops_router(registry, ready))
    return app
