"""The indicators HTTP API, the progress board and the operational endpoints.

Values come from the ledger the background refresher rebuilds from PostgreSQL, so a request
never waits on the fold and the API keeps serving the last totals while a rebuild runs.
Every read names a plan (`plan=`; by default the plan in progress today, else the one that
ended last): one event history, each plan's own baselines and months. Every read is bounded:
months and days only within the plans' years (the first baseline year minus 10 to the last
target year plus 10), lists in pages. With `IPRWATCH_READ_TOKENS` set, the JSON APIs and
the board need a read token (the board sets a cookie from `?token=`); probes and /metrics
stay open. While PostgreSQL is away a read answers 503 with `Retry-After`, never 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.indicators.bootstrap import Indicators, running
from services.indicators.domain.values import Ledger
from services.indicators.entrypoints.board import (
    STATIC_DIR,
    STATIC_URL,
    division_parts,
    render_board,
    render_division_page,
)
from services.indicators.entrypoints.http_common import (
    LOOKUP_ERRORS,
    PAGE_ERRORS,
    PLAN_ERRORS,
    READ_ERRORS,
    AnswerCache,
    Bounds,
    Problem,
)
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service import queries
from services.indicators.service.division import division_feed
from services.indicators.settings import IndicatorsSettings
from shared import unavailable
from shared.kafka import consumer_reaches_broker
from shared.ops import ops_router
from shared.postgres import is_reachable
from shared.read_access import COOKIE, ReadAccess, ReadAccessSettings


def _board_without_token(request: Request) -> str:
    """Where the board sends a browser once its token is in a cookie (never off this site)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return "/" + (f"?{urlencode(query)}" if query else "")


def create_app(settings: IndicatorsSettings) -> FastAPI:
    metrics = IndicatorsMetrics()
    plans = settings.plan.load()
    bounds = Bounds(plans)
    access: ReadAccess = ReadAccessSettings().access()
    guarded = [Depends(access.guard())]
    district_codes = sorted({c for p in plans for c in (p.city.code, *p.district_codes)})
    indicator_keys = sorted({key for p in plans for key in p.indicator_keys})
    cache = AnswerCache()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, metrics) as indicators:
            app.state.indicators = indicators
            yield

    app = FastAPI(title="IPR Watch indicators", version="1", lifespan=lifespan)
    unavailable.install(app)

    @app.exception_handler(queries.NotInPlan)
    async def not_in_plan(_: Request, exc: queries.NotInPlan) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def ready() -> dict[str, bool]:
        indicators: Indicators | None = getattr(app.state, "indicators", None)
        if indicators is None:
            return {"postgres": False, "kafka": False}
        postgres = await is_reachable(indicators.read_pool)
        kafka = await consumer_reaches_broker(indicators.consumer)
        return {"postgres": postgres, "kafka": kafka, **indicators.supervisor.checks()}

    app.include_router(ops_router(metrics.registry, ready))
    # the board's scripts, styles and map outlines: served here, so the board works offline
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="board-assets")

    def ledger_of(request: Request, plan: str | None) -> Ledger:
        """The plan asked for, else the plan in progress today, else the one that ended last."""
        indicators: Indicators = request.app.state.indicators
        if plan is None:
            plan = plans.default(datetime.now(plans.zone).date()).id
        try:
            return indicators.ledgers[plan]
        except KeyError:
            known = ", ".join(plans.ids)
            raise HTTPException(404, f"unknown plan {plan!r}: the plans are {known}") from None

    plan_query: dict[str, Any] = {
        "description": "a plan id (GET /v1/plans); default: the plan in progress today",
        "json_schema_extra": {"enum": list(plans.ids)},
        "max_length": 64,
    }
    # the pattern is for the OpenAPI document only: `bounds.day` checks and says what is wrong
    day_query: dict[str, Any] = {"json_schema_extra": {"pattern": bounds.pattern, "maxLength": 10}}
    district_query: dict[str, Any] = {
        "json_schema_extra": {"enum": district_codes},
        "max_length": 16,
    }
    indicator_query: dict[str, Any] = {
        "json_schema_extra": {"enum": indicator_keys},
        "max_length": 80,
    }

    @app.get("/v1/indicators", dependencies=guarded, responses=LOOKUP_ERRORS)
    async def get_indicators(
        request: Request,
        plan: str | None = Query(default=None, **plan_query),
        district: str | None = Query(default=None, **district_query),
        indicator: str | None = Query(default=None, **indicator_query),
        as_of: str | None = Query(
            default=None, description="YYYY-MM-DD, or YYYY-MM (its last day)", **day_query
        ),
        limit: int = Query(default=settings.page_default_limit, ge=1, le=settings.page_max_limit),
        offset: int = Query(default=0, ge=0, le=1_000_000),
    ) -> dict[str, Any]:
        """Value, baseline, target, required value on the path, progress, unit and names.

        In pages of `limit` items (district by district, indicators in the plan's order);
        `total` counts every item asked for, `next_offset` is null on the last page."""
        ledger = ledger_of(request, plan)
        day = bounds.day(as_of, "as_of", end_of_month=True)
        # 404 first
        codes, keys = queries.codes(ledger, district), queries.indicators(ledger, indicator)
        window = slice(offset, offset + limit)
        total, items = await cache.get(
            request.app.state.indicators.ledgers,
            (
                "indicators",
                ledger.plan.id,
                tuple(codes),
                tuple(keys),
                day,
                queries.today(ledger),
                offset,
                limit,
            ),
            lambda: queries.indicator_items(ledger, district, indicator, day, window),
        )
        return {
            "plan": ledger.plan.id, "state": ledger.plan.state(day or queries.today(ledger)),
            "as_of": None if day is None else day.isoformat(),
            "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + limit if offset + limit < total else None,
            "items": items,
        }  # fmt: skip

    @app.get("/v1/series", dependencies=guarded, responses=LOOKUP_ERRORS)
    async def get_series(
        request: Request,
        plan: str | None = Query(default=None, **plan_query),
        district: str = Query(..., **district_query),
        indicator: str = Query(..., **indicator_query),
        start: str | None = Query(default=None, alias="from", **day_query),
        end: str | None = Query(default=None, alias="to", **day_query),
    ) -> dict[str, Any]:
        """The plan's end-of-month values, from the first month after its baseline date by
        default, never past its target month."""
        ledger = ledger_of(request, plan)
        code = queries.codes(ledger, district)[0]
        key = queries.indicators(ledger, indicator)[0]
        first, last = bounds.day(start, "from"), bounds.day(end, "to")
        points = await cache.get(
            request.app.state.indicators.ledgers,
            ("series", ledger.plan.id, code, key, first, last),
            lambda: ledger.series(code, key, first, last),
        )
        spec = ledger.plan.indicator(key)
        return {
            "plan": ledger.plan.id, "district": code, "indicator": key, "unit": spec.unit,
            "points": [{"month": m.strftime("%Y-%m"), "value": v} for m, v in points],
        }  # fmt: skip

    @app.get("/v1/plans", dependencies=guarded, responses=READ_ERRORS)
    async def get_plans() -> list[dict[str, Any]]:
        """Every loaded plan with its period and state today (in its time zone)."""
        return [queries.plan_summary(p, datetime.now(p.zone).date()) for p in plans]

    @app.get("/v1/districts", dependencies=guarded, responses=PLAN_ERRORS)
    async def get_districts(
        request: Request, plan: str | None = Query(default=None, **plan_query)
    ) -> list[dict[str, Any]]:
        found = ledger_of(request, plan).plan
        city = found.city
        return [
            {"code": city.code, "name_zh": city.name_zh, "name_en": city.name_en,
             "kind": "city", "population": city.population},
            *({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "kind": d.kind,
               "population": d.population} for d in found.districts),
        ]  # fmt: skip

    @app.get("/v1/plan", dependencies=guarded, responses=PLAN_ERRORS)
    async def get_plan(
        request: Request, plan: str | None = Query(default=None, **plan_query)
    ) -> dict[str, Any]:
        return ledger_of(request, plan).plan.model_dump(mode="json")

    @app.get(
        "/",
        response_class=HTMLResponse,
        responses={
            401: {
                "description": "A read token is required (IPRWATCH_READ_TOKENS is set).",
                "content": {"application/json": {"schema": Problem.model_json_schema()}},
            },
            303: {"description": "`?token=` accepted: the cookie is set, the page reloads"},
            404: {
                "description": "Unknown plan, or an indicator (`sort`) the plan does not declare.",
                "content": {"application/json": {"schema": Problem.model_json_schema()}},
            },
        },
    )
    async def board(
        request: Request,
        plan: str | None = Query(default=None, **plan_query),
        token: str | None = Query(
            default=None, max_length=512, description="a read token, kept in a cookie"
        ),
        sort: str | None = Query(
            default=None, description="rank the divisions by this indicator", **indicator_query
        ),
    ) -> Response:
        if access.enabled:
            if token is not None and access.accepts(token):
                response = RedirectResponse(_board_without_token(request), status_code=303)
                response.set_cookie(
                    COOKIE, token, httponly=True, samesite="strict",
                    secure=request.url.scheme == "https", path="/",
                )  # fmt: skip
                return response
            access.guard()(request)
        ledger = ledger_of(request, plan)
        if sort is not None:
            queries.indicators(ledger, sort)  # 404 for an indicator the plan does not declare
        today = queries.today(ledger)
        page = await cache.get(
            request.app.state.indicators.ledgers,
            ("board", ledger.plan.id, today, sort),
            lambda: render_board(ledger, plans, today, sort),
        )
        return HTMLResponse(page)

    @app.get(
        "/division/{code}", response_class=HTMLResponse, dependencies=guarded,
        responses=PAGE_ERRORS,
    )  # fmt: skip
    async def division_page(
        request: Request,
        code: str = Path(max_length=16, description="a division code of the plan"),
        plan: str | None = Query(default=None, **plan_query),
    ) -> HTMLResponse:
        """A division's page of the board: every indicator's latest value and chart, its
        current alerts (from the alerts API, if set and answering) and its latest acts."""
        ledger = ledger_of(request, plan)
        queries.codes(ledger, code)  # 404 for a code the plan does not know
        today = queries.today(ledger)
        indicators: Indicators = request.app.state.indicators
        parts = await cache.get(
            indicators.ledgers,
            ("division", ledger.plan.id, code, today),
            lambda: division_parts(ledger, plans, code, today),
        )
        feed = await division_feed(
            indicators.totals, indicators.alerts, ledger.plan.id, code,
            settings.division_latest_acts,
        )  # fmt: skip
        return HTMLResponse(render_division_page(parts, feed))

    return app
