"""The alerts JSON API: alerts, silences, the send log, the bulletins (`api_reports`). Writes
need the admin token.

One module per concern (`api_alerts`, `api_silences`, `api_send_log`; what they share in
`api_common`); this one puts them on one router, in the order the OpenAPI document lists them.
Every input is bounded (see docs/alerts.md) and lists are paginated.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Security

from services.alerts.entrypoints.api_alerts import alert_routes
from services.alerts.entrypoints.api_common import UNAUTHORISED, UNAVAILABLE, read_bearer
from services.alerts.entrypoints.api_reports import add_report_routes
from services.alerts.entrypoints.api_send_log import send_log_routes
from services.alerts.entrypoints.api_silences import silence_routes
from shared.read_access import ReadAccess


def api_router(read_access: ReadAccess) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["alerts"])
    reading: list[Any] = [Depends(read_access.guard())]
    read_responses: dict[int | str, dict[str, Any]] = dict(UNAVAILABLE)
    if read_access.enabled:  # documented only when it is asked for: then it is enforced
        reading.insert(0, Security(read_bearer))
        read_responses[401] = UNAUTHORISED
    alert_routes(router, reading, read_responses)
    silence_routes(router, reading, read_responses)
    send_log_routes(router, reading, read_responses)
    add_report_routes(router, reading, read_responses)
    return router
