"""The alerts JSON API: alerts, silences, the send log, the bulletins (`reports_api`). Writes
need the admin token.

Every input is bounded (see docs/alerts.md): text is printable (no control characters, no lone
surrogates) and of limited length, times are RFC 3339 with an offset of at most ±14:00 between
the years 2000 and 2099, a silence lasts at most two years, lists are paginated.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from services.alerts.bootstrap import Alerts
from services.alerts.domain.numbers import SHANGHAI
from services.alerts.domain.silences import Matcher, Silence
from services.alerts.entrypoints.reports_api import add_report_routes
from shared.read_access import ReadAccess

# A silence lasts at most two years: longer is a typo (or 1e12 seconds), not a plan.
MAX_SILENCE = timedelta(days=730)
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset in use (Kiribati)
# No control character (C0, DEL, C1): PostgreSQL cannot hold a NUL, mail headers no line break.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# The same, but a comment may have tabs and line breaks.
PRINTABLE_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
DISTRICT = r"^[0-9]{6}$"
INDICATOR = r"^[a-z][a-z0-9_]{0,63}$"
PLAN = r"^[a-z0-9][a-z0-9-]{0,63}$"
MAX_OFFSET = 1_000_000


def _rfc3339(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("expected an RFC 3339 time with an offset: 2025-01-31T18:00:00+08:00")
    return value


def _sane_time(moment: datetime) -> datetime:
    offset = moment.utcoffset()
    if offset is None or abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("the UTC offset must be between -14:00 and +14:00")
    if not EARLIEST <= moment < LATEST:
        raise ValueError("the time must be between 2000-01-01 and 2099-12-31 (UTC)")
    return moment


def _whole_characters(text: str) -> str:
    """JSON may escape half of a UTF-16 pair (\\ud800): no UTF-8 text can hold it."""
    if _LONE_SURROGATE.search(text):
        raise ValueError("the text holds a lone UTF-16 surrogate (half a character)")
    return text


Text = Annotated[str, AfterValidator(_whole_characters)]
Time = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_sane_time)]


def _valid_regex(matcher: MatcherIn) -> MatcherIn:
    try:
        re.compile(matcher.value)
    except re.error as exc:
        raise ValueError(f"value is not a valid regular expression: {exc}") from None
    return matcher


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    name: Literal["plan", "district", "indicator", "severity"]
    # Always a valid regular expression (so an isRegex matcher can never fail later); a
    # literal value (a district code, an indicator key, a severity) always is one.
    value: Text = Field(min_length=1, max_length=200, pattern=PRINTABLE,
                       json_schema_extra={"format": "regex"})  # fmt: skip
    isRegex: StrictBool = False  # noqa: N815 - Alertmanager's field names
    isEqual: StrictBool = True  # noqa: N815

    @model_validator(mode="after")
    def _regex(self) -> MatcherIn:
        return _valid_regex(self)


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    matchers: list[MatcherIn] = Field(min_length=1, max_length=16)
    createdBy: Text = Field(min_length=1, max_length=100, pattern=PRINTABLE)  # noqa: N815
    comment: Text = Field(min_length=1, max_length=2000, pattern=PRINTABLE_LINES)
    startsAt: Time | None = None  # noqa: N815
    endsAt: Time | None = None  # noqa: N815
    durationSeconds: float | None = Field(  # noqa: N815
        default=None, gt=0, le=MAX_SILENCE.total_seconds(), allow_inf_nan=False, strict=True
    )

    @model_validator(mode="after")
    def _window(self) -> SilenceIn:
        if (self.endsAt is None) == (self.durationSeconds is None):
            raise ValueError("give exactly one of endsAt and durationSeconds")
        now = datetime.now(UTC)
        starts, ends = self.window(now)
        if ends <= now:
            raise ValueError("endsAt must be in the future")
        if ends <= starts:
            raise ValueError("endsAt must be after startsAt (default: now)")
        if ends - starts > MAX_SILENCE:
            raise ValueError("a silence lasts at most 730 days")
        return self

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        starts = self.startsAt or now
        return starts, self.endsAt or starts + timedelta(seconds=self.durationSeconds or 0)


class Problem(BaseModel):
    detail: str


class MatcherOut(BaseModel):
    name: str
    value: str
    isRegex: bool  # noqa: N815
    isEqual: bool  # noqa: N815


class SilenceStatus(BaseModel):
    state: Literal["active", "pending", "expired"]


class SilenceOut(BaseModel):
    id: str
    matchers: list[MatcherOut]
    startsAt: datetime  # noqa: N815
    endsAt: datetime  # noqa: N815
    createdBy: str  # noqa: N815
    comment: str
    status: SilenceStatus


class Expired(BaseModel):
    id: str
    state: Literal["expired"]


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


class NotificationOut(BaseModel):
    message_id: str
    channel: str
    recipient: str
    subject: str
    items: list[str]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime | None
    sent_at: datetime | None


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "starting, or the database is away: retry later",
          "headers": _RETRY_AFTER},
}  # fmt: skip
_UNAUTHORISED = {"model": Problem, "description": "no token given"}
_ADMIN: dict[int | str, dict[str, Any]] = {
    **_UNAVAILABLE,
    401: _UNAUTHORISED,
    403: {"model": Problem, "description": "wrong admin token"},
}
_admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="adminToken", description="IPRWATCH_ALERTS_ADMIN_TOKEN"
)
_read_bearer = HTTPBearer(
    auto_error=False, scheme_name="readToken", description="one of IPRWATCH_READ_TOKENS"
)


def _alerts(request: Request) -> Alerts:
    alerts: Alerts | None = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(503, "starting", headers={"Retry-After": "5"})
    return alerts


def _admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_admin_bearer)],
) -> None:
    token = _alerts(request).settings.admin_token
    if credentials is None:
        raise HTTPException(
            401,
            "an admin token is needed: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="iprwatch-alerts"'},
        )
    if token is None or not secrets.compare_digest(
        credentials.credentials.encode("utf-8", "surrogatepass"),
        token.get_secret_value().encode(),
    ):
        raise HTTPException(403, "wrong admin token")


def _time(moment: datetime | None) -> datetime | None:
    return moment.astimezone(SHANGHAI) if moment else None


def _silence_out(s: Silence, now: datetime) -> SilenceOut:
    state: Literal["active", "pending", "expired"] = (
        "active" if s.active(now) else ("pending" if now < s.starts_at else "expired")
    )
    return SilenceOut(
        id=s.id,
        matchers=[
            MatcherOut(name=m.name, value=m.value, isRegex=m.is_regex, isEqual=m.is_equal)
            for m in s.matchers
        ],  # fmt: skip
        startsAt=s.starts_at.astimezone(SHANGHAI),
        endsAt=s.ends_at.astimezone(SHANGHAI),
        createdBy=s.created_by,
        comment=s.comment,
        status=SilenceStatus(state=state),
    )


def _limit(default: int, most: int) -> Any:
    return Query(ge=1, le=most, description=f"at most this many (default {default})")


Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="skip this many first")]


def api_router(read_access: ReadAccess) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["alerts"])
    reading: list[Any] = [Depends(read_access.guard())]
    read_responses: dict[int | str, dict[str, Any]] = dict(_UNAVAILABLE)
    if read_access.enabled:  # documented only when it is asked for: then it is enforced
        reading.insert(0, Security(_read_bearer))
        read_responses[401] = _UNAUTHORISED

    @router.get("/alerts", dependencies=reading, responses=read_responses,
                operation_id="listAlerts")  # fmt: skip
    async def list_alerts(
        request: Request,
        state: Literal["inactive", "pending", "firing", "resolved"] | None = None,
        plan: Annotated[str | None, Query(pattern=PLAN)] = None,
        district: Annotated[str | None, Query(pattern=DISTRICT)] = None,
        indicator: Annotated[str | None, Query(pattern=INDICATOR)] = None,
        limit: Annotated[int, _limit(1000, 5000)] = 1000,
        offset: Offset = 0,
    ) -> list[AlertOut]:
        """Alert states by plan, district and indicator (ordered so), with the latest snapshot.
        An ended plan's alerts are inactive, their status the outcome (achieved, missed, ...)."""
        rows = await _alerts(request).store.alerts(
            state, district, indicator, limit, offset, plan=plan
        )
        out = []
        for r in rows:
            snap = json.loads(r["snapshot"])
            out.append(
                AlertOut(
                    plan=r["plan"],
                    district=r["district"],
                    indicator=r["indicator"],
                    state=r["state"],
                    status=r["status"],
                    severity=r["severity"],
                    epoch=r["epoch"],
                    value=snap.get("value"),
                    month=snap.get("month"),
                    required=snap.get("required"),
                    target=snap.get("target"),
                    forecast=snap.get("forecast"),
                    forecast_low=snap.get("forecast_low"),
                    forecast_high=snap.get("forecast_high"),
                    active_since=_time(r["active_since"]),
                    firing_since=_time(r["firing_since"]),
                    resolved_at=_time(r["resolved_at"]),
                    evaluated_at=_time(r["updated_at"]),
                )  # fmt: skip
            )
        return out

    @router.get("/silences", dependencies=reading, responses=read_responses,
                operation_id="listSilences")  # fmt: skip
    async def list_silences(
        request: Request, limit: Annotated[int, _limit(500, 5000)] = 500, offset: Offset = 0
    ) -> list[SilenceOut]:
        """Silences in the order they were made (expired ones too)."""
        alerts = _alerts(request)
        now = alerts.alerting.clock.now()
        return [_silence_out(s, now) for s in await alerts.store.silences(limit, offset)]

    made: dict[int | str, dict[str, Any]] = {
        **_ADMIN,
        400: {"model": Problem, "description": "the body is not JSON"},
        201: {"description": "the silence, with its id",
              "links": {"ExpireSilence": {"operationId": "expireSilence",
                                          "parameters": {"silence_id": "$response.body#/id"}}}},
    }  # fmt: skip

    @router.post("/silences", dependencies=[Depends(_admin)], status_code=201, responses=made,
                 operation_id="addSilence")  # fmt: skip
    async def add_silence(body: SilenceIn, request: Request) -> SilenceOut:
        """Silence the alerts that all matchers match, from `startsAt` (default now) until
        `endsAt` or for `durationSeconds` (exactly one of them; at most 730 days)."""
        alerts = _alerts(request)
        now = alerts.alerting.clock.now()
        starts, ends = body.window(now)
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

    not_found: dict[int | str, dict[str, Any]] = {
        **_ADMIN, 404: {"model": Problem, "description": "no such silence, or expired before"},
    }  # fmt: skip

    @router.delete("/silences/{silence_id}", dependencies=[Depends(_admin)], responses=not_found,
                   operation_id="expireSilence")  # fmt: skip
    async def expire_silence(
        silence_id: Annotated[uuid.UUID, Path(description="the id a POST answered")],
        request: Request,
    ) -> Expired:
        """Expire a silence now (it stays listed, as expired); once only: then 404."""
        alerts = _alerts(request)
        if not await alerts.store.expire_silence(str(silence_id), alerts.alerting.clock.now()):
            raise HTTPException(404, f"no silence {silence_id} to expire")
        return Expired(id=str(silence_id), state="expired")

    @router.get("/notifications", dependencies=reading, responses=read_responses,
                operation_id="listNotifications")  # fmt: skip
    async def notifications(
        request: Request, limit: Annotated[int, _limit(500, 5000)] = 500, offset: Offset = 0
    ) -> list[NotificationOut]:
        """The send log, newest first."""
        rows = await _alerts(request).store.send_log(limit, offset)
        return [
            NotificationOut(
                message_id=r["message_id"],
                channel=r["channel"],
                recipient=r["recipient"],
                subject=r["subject"],
                items=json.loads(r["items"]),
                status=r["status"],
                attempts=r["attempts"],
                last_error=r["last_error"],
                created_at=_time(r["created_at"]),
                sent_at=_time(r["sent_at"]),
            )  # fmt: skip
            for r in rows
        ]

    add_report_routes(router, reading, read_responses)
    return router
