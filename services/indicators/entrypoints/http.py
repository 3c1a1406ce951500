"""The indicators HTTP API, the progress board and the operational endpoints.

Values come from the ledger the background refresher rebuilds from PostgreSQL, so a request
never waits on the fold and the API keeps serving the last totals while a rebuild runs.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from services.indicators.bootstrap import Indicators, running
from services.indicators.domain.values import Ledger
from services.indicators.entrypoints.board import render_board
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.settings import IndicatorsSettings
from shared.kafka import consumer_reaches_broker
from shared.ops import ops_router
from shared.postgres import is_reachable
from shared.trajectory import required_value

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _today(ledger: Ledger) -> date:
    return datetime.now(ledger.plan.zone).date()


def _day(text: str | None, name: str, end_of_month: bool = False) -> date | None:
    if text is None:
        return None
    try:
        if _MONTH.match(text):
            day = date.fromisoformat(f"{text}-01")
            if end_of_month:
                following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                return date.fromordinal(following.toordinal() - 1)
            return day
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{name} must be a date YYYY-MM-DD or a month YYYY-MM") from None


def _codes(ledger: Ledger, district: str | None) -> list[str]:
    if district is None:
        return ledger.codes()
    if district != ledger.city and not ledger.plan.is_district(district):
        raise HTTPException(404, f"unknown district {district!r}: not a division of the plan")
    return [district]


def _indicators(ledger: Ledger, indicator: str | None) -> list[str]:
    keys = list(ledger.plan.indicator_keys)
    if indicator is None:
        return keys
    if indicator not in keys:
        raise HTTPException(404, f"unknown indicator {indicator!r}: the plan does not declare it")
    return [indicator]


def _names(ledger: Ledger, code: str) -> tuple[str, str]:
    place = ledger.plan.city if code == ledger.city else ledger.plan.district(code)
    return place.name_zh, place.name_en


def indicator_items(
    ledger: Ledger, district: str | None, indicator: str | None, as_of: date | None
) -> list[dict[str, Any]]:
    on = as_of or _today(ledger)
    items = []
    for code in _codes(ledger, district):
        name_zh, name_en = _names(ledger, code)
        for key in _indicators(ledger, indicator):
            spec = ledger.plan.indicator(key)
            progress = ledger.progress(code, key, as_of)
            items.append({
                "district": code, "district_name_zh": name_zh, "district_name_en": name_en,
                "indicator": key, "name_zh": spec.name_zh, "name_en": spec.name_en,
                "kind": spec.kind, "unit": spec.unit, "value": progress.value,
                "baseline": progress.baseline, "target": progress.target,
                "required": required_value(ledger.plan, code, key, on),
                "progress": progress.progress,
            })  # fmt: skip
    return items


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
        postgres = await is_reachable(indicators.pool)
        return {"postgres": postgres, "kafka": await consumer_reaches_broker(indicators.consumer)}

    app.include_router(ops_router(metrics.registry, ready))

    def ledger_of(request: Request) -> Ledger:
        indicators: Indicators = request.app.state.indicators
        return indicators.ledger

    @app.get("/v1/indicators")
    async def get_indicators(
        request: Request,
        district: str | None = None,
        indicator: str | None = None,
        as_of: str | None = None,
    ) -> dict[str, Any]:
        """Value, baseline, target, required value on the path, progress, unit and names."""
        ledger = ledger_of(request)
        day = _day(as_of, "as_of", end_of_month=True)
        return {
            "as_of": None if day is None else day.isoformat(),
            "items": indicator_items(ledger, district, indicator, day),
        }

    @app.get("/v1/series")
    async def get_series(
        request: Request,
        district: str = Query(...),
        indicator: str = Query(...),
        start: str | None = Query(default=None, alias="from"),
        end: str | None = Query(default=None, alias="to"),
    ) -> dict[str, Any]:
        """End-of-month values, from the first month after the baseline date by default."""
        ledger = ledger_of(request)
        code = _codes(ledger, district)[0]
        key = _indicators(ledger, indicator)[0]
        points = ledger.series(code, key, _day(start, "from"), _day(end, "to"))
        spec = ledger.plan.indicator(key)
        return {
            "district": code, "indicator": key, "unit": spec.unit,
            "points": [{"month": m.strftime("%Y-%m"), "value": v} for m, v in points],
        }  # fmt: skip

    @app.get("/v1/districts")
    async def get_districts(request: Request) -> list[dict[str, Any]]:
        plan = ledger_of(request).plan
        city = plan.city
        return [
            {"code": city.code, "name_zh": city.name_zh, "name_en": city.name_en,
             "kind": "city", "population": city.population},
            *({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "kind": d.kind,
               "population": d.population} for d in plan.districts),
        ]  # fmt: skip

    @app.get("/v1/plan")
    async def get_plan(request: Request) -> dict[str, Any]:
        return ledger_of(request).plan.model_dump(mode="json")

    @app.get("/", response_class=HTMLResponse)
    async def board(request: Request) -> HTMLResponse:
        ledger = ledger_of(request)
        return HTMLResponse(render_board(ledger, _today(ledger)))

    return app
