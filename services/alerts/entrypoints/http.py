"""The alerts HTTP API and operational endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.alerts.bootstrap import Alerts, running
from services.alerts.entrypoints.api import api_router
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared.kafka import consumer_reaches_broker
from shared.ops import ops_router
from shared.postgres import is_reachable


def create_app(settings: AlertsSettings) -> FastAPI:
    metrics = AlertMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, metrics) as alerts:
            app.state.alerts = alerts
            yield

    app = FastAPI(title="IPR Watch alerts", version="1", lifespan=lifespan)

    async def ready() -> dict[str, bool]:
        alerts: Alerts | None = getattr(app.state, "alerts", None)
        if alerts is None:
            return {"kafka": False, "postgres": False}
        return {
            "kafka": await consumer_reaches_broker(alerts.consumer),
            "postgres": await is_reachable(alerts.pool),
        }

    app.include_router(ops_router(metrics.registry, ready))
    app.include_router(api_router())
    return app
