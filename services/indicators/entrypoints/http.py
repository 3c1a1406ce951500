"""The indicators HTTP API and operational endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from services.indicators.bootstrap import Indicators, running
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.ops import ops_router


def create_app(settings: IndicatorsSettings) -> FastAPI:
    metrics = IndicatorsMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, metrics) as indicators:
            app.state.indicators = indicators
            yield

    app = FastAPI(title="IPR Watch indicators", version="1", lifespan=lifespan)

    async def ready() -> dict[str, bool]:
        indicators: Indicators | None = getattr(app.state, "indicators", None)
        if indicators is None:
            return {"postgres": False, "kafka": False}
        try:
            await indicators.pool.fetchval("SELECT 1")
            postgres = True
        except Exception:  # noqa: BLE001
            postgres = False
        return {"postgres": postgres, "kafka": bool(indicators.consumer.assignment() is not None)}

    app.include_router(ops_router(metrics.registry, ready))

    @app.get("/v1/values")
    async def values(request: Request) -> list[dict[str, object]]:
        indicators: Indicators = request.app.state.indicators
        return [
            {"district": d, "indicator": i, "value": v}
            for (d, i), v in sorted(indicators.metrics.snapshot.values.items())
        ]

    return app
