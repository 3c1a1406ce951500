"""The alerts JSON API: alerts, silences, the send log. Writes need the admin token."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.alerts.bootstrap import Alerts
from services.alerts.domain.numbers import SHANGHAI
from services.alerts.domain.silences import Matcher, Silence


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["district", "indicator", "severity"]
    value: str = Field(min_length=1)
    isRegex: bool = False  # noqa: N815 - Alertmanager's field names
    isEqual: bool = True  # noqa: N815


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] = Field(min_length=1)
    createdBy: str = Field(min_length=1)  # noqa: N815
    comment: str = Field(min_length=1)
    startsAt: datetime | None = None  # noqa: N815
    endsAt: datetime | None = None  # noqa: N815
    durationSeconds: float | None = Field(default=None, gt=0)  # noqa: N815

    @model_validator(mode="after")
    def _expiry(self) -> SilenceIn:
        if (self.endsAt is None) == (self.durationSeconds is None):
            raise ValueError("give exactly one of endsAt and durationSeconds")
        for moment in (self.startsAt, self.endsAt):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("times need a UTC offset, e.g. 2025-01-31T18:00:00+08:00")
        return self


def _alerts(request: Request) -> Alerts:
    alerts: Alerts | None = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(503, "starting")
    return alerts


def _admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = _alerts(request).settings.admin_token
    if authorization is None or not authorization.startswith("Bearer "):
        raise HTTPException(401, "an admin token is needed: Authorization: Bearer <token>")
    if token is None or not secrets.compare_digest(
        authorization.removeprefix("Bearer ").encode(), token.get_secret_value().encode()
    ):
        raise HTTPException(403, "wrong admin token")


def _time(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


def _silence_out(s: Silence, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id,
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
            for m in s.matchers
        ],
        "startsAt": _time(s.starts_at),
        "endsAt": _time(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
        "status": {
            "state": "active" if s.active(now) else ("pending" if now < s.starts_at else "expired")
        },
    }


def api_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["alerts"])

    @router.get("/alerts")
    async def list_alerts(
        request: Request,
        state: Literal["inactive", "pending", "firing", "resolved"] | None = None,
        district: str | None = None,
        indicator: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = await _alerts(request).store.alerts(state, district, indicator)
        out = []
        for r in rows:
            snap = json.loads(r["snapshot"])
            out.append(
                {
                    "district": r["district"],
                    "indicator": r["indicator"],
                    "state": r["state"],
                    "status": r["status"],
                    "severity": r["severity"],
                    "epoch": r["epoch"],
                    "value": snap["value"],
                    "month": snap["month"],
                    "required": snap["required"],
                    "target": snap["target"],
                    "forecast": snap["forecast"],
                    "forecast_low": snap["forecast_low"],
                    "forecast_high": snap["forecast_high"],
                    "active_since": _time(r["active_since"]),
                    "firing_since": _time(r["firing_since"]),
                    "resolved_at": _time(r["resolved_at"]),
                    "evaluated_at": _time(r["updated_at"]),
                }
            )
        return out

    @router.get("/silences")
    async def list_silences(request: Request) -> list[dict[str, Any]]:
        alerts = _alerts(request)
        now = alerts.alerting.clock.now()
        return [_silence_out(s, now) for s in await alerts.store.silences()]

    @router.post("/silences", dependencies=[Depends(_admin)], status_code=201)
    async def add_silence(body: SilenceIn, request: Request) -> dict[str, Any]:
        alerts = _alerts(request)
        now = alerts.alerting.clock.now()
        starts = body.startsAt or now
        ends = body.endsAt or starts + timedelta(seconds=body.durationSeconds or 0)
        if ends <= starts:
            raise HTTPException(422, "endsAt must be after startsAt")
        silence = Silence(
            str(uuid.uuid4()),
            tuple(Matcher(m.name, m.value, m.isRegex, m.isEqual) for m in body.matchers),
            starts,
            ends,
            body.createdBy,
            body.comment,
        )
        await alerts.store.add_silence(silence)
        return _silence_out(silence, now)

    @router.delete("/silences/{silence_id}", dependencies=[Depends(_admin)])
    async def expire_silence(silence_id: str, request: Request) -> dict[str, str]:
        alerts = _alerts(request)
        if not await alerts.store.expire_silence(silence_id, alerts.alerting.clock.now()):
            raise HTTPException(404, f"no silence {silence_id}")
        return {"id": silence_id, "state": "expired"}

    @router.get("/notifications")
    async def notifications(request: Request, limit: int = 500) -> list[dict[str, Any]]:
        rows = await _alerts(request).store.send_log(min(max(limit, 1), 5000))
        return [
            {
                "message_id": r["message_id"],
                "channel": r["channel"],
                "recipient": r["recipient"],
                "subject": r["subject"],
                "items": json.loads(r["items"]),
                "status": r["status"],
                "attempts": r["attempts"],
                "last_error": r["last_error"],
                "created_at": _time(r["created_at"]),
                "sent_at": _time(r["sent_at"]),
            }
            for r in rows
        ]

    return router
