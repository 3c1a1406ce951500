"""What every part of the alerts API shares: the running service, the admin check, the
documented error answers, time in Shanghai, pagination."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from services.alerts.bootstrap import Alerts
from shared.numbers import SHANGHAI

DISTRICT = r"^[0-9]{6}$"
INDICATOR = r"^[a-z][a-z0-9_]{0,63}$"
PLAN = r"^[a-z0-9][a-z0-9-]{0,63}$"
MAX_OFFSET = 1_000_000


class Problem(BaseModel):
    detail: str


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "starting, or the database is away: retry later",
          "headers": RETRY_AFTER},
}  # fmt: skip
UNAUTHORISED = {"model": Problem, "description": "no token given"}
ADMIN: dict[int | str, dict[str, Any]] = {
    **UNAVAILABLE,
    401: UNAUTHORISED,
    403: {"model": Problem, "description": "wrong admin token"},
}
admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="adminToken", description="IPRWATCH_ALERTSADMIN_TOKEN"
)
read_bearer = HTTPBearer(
    auto_error=False, scheme_name="readToken", description="one of IPRWATCH_READ_TOKENS"
)


def running_service(request: Request) -> Alerts:
    alerts: Alerts | None = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(503, "starting", headers={"Retry-After": "5"})
    return alerts


def admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(admin_bearer)],
) -> None:
    token = running_service(request).settings.admin_token
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


def shown_time(moment: datetime | None) -> datetime | None:
    return moment.astimezone(SHANGHAI) if moment else None


def limit_query(default: int, most: int) -> Any:
    return Query(ge=1, le=most, description=f"at most this many (default {default})")


Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="skip this many first")]
