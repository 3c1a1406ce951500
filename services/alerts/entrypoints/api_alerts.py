"""The alerts part of the alerts API: alert states with their latest snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from services.alerts.entrypoints.api_common import (
    DISTRICT,
    INDICATOR,
    PLAN,
    Offset,
    limit_query,
    running_service,
    shown_time,
)
from services.alerts.service.ports import StoredAlert


class AlertOut(BaseModel):
    plan: str
    district: str
    indicator: str
    state: Literal["inactive", "pending", "firing"]
    status: str
    severity: str
    epoch: int
    value: float | None
    month: str | None
    required: float | None
    target: float | None
    forecast: float | None
    forecast_low: float | None
    forecast_high: float | None
    active_since: datetime | None
    firing_since: datetime | None
    resolved_at: datetime | None
    evaluated_at: datetime | None


def _alert_out(r: StoredAlert) -> AlertOut:
    snap, alert = r.snapshot, r.alert
    return AlertOut(
        plan=r.plan, district=r.district, indicator=r.indicator, state=alert.state,
        status=r.status, severity=alert.severity, epoch=alert.epoch,
        value=snap.get("value"), month=snap.get("month"), required=snap.get("required"),
        target=snap.get("target"), forecast=snap.get("forecast"),
        forecast_low=snap.get("forecast_low"), forecast_high=snap.get("forecast_high"),
        active_since=shown_time(alert.active_since), firing_since=shown_time(alert.firing_since),
        resolved_at=shown_time(alert.resolved_at), evaluated_at=shown_time(r.updated_at),
    )  # fmt: skip


def alert_routes(
    router: APIRouter, reading: list[Any], read_responses: dict[int | str, dict[str, Any]]
) -> None:
    @router.get("/alerts", dependencies=reading, responses=read_responses,
                operation_id="listAlerts")  # fmt: skip
    async def list_alerts(
        request: Request,
        state: Literal["inactive", "pending", "firing", "resolved"] | None = None,
        plan: Annotated[str | None, Query(pattern=PLAN)] = None,
        district: Annotated[str | None, Query(pattern=DISTRICT)] = None,
        indicator: Annotated[str | None, Query(pattern=INDICATOR)] = None,
        limit: Annotated[int, limit_query(1000, 5000)] = 1000,
        offset: Offset = 0,
    ) -> list[AlertOut]:
        """Alert states by plan, district and indicator (ordered so), with the latest snapshot.
        An ended plan's alerts are inactive, their status the outcome (achieved, missed, ...)."""
        rows = await running_service(request).repositories.alerts.alerts(
            state, district, indicator, limit, offset, plan=plan
        )
        return [_alert_out(r) for r in rows]
