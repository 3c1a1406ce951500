"""Answer 503 (with `Retry-After`), never 500, while a dependency is away.

A read that needs PostgreSQL while it restarts, or a write to Kafka while no broker answers,
is not the client's fault and not a bug: it is worth retrying. `install` adds one exception
handler per kind of "away" error to a FastAPI app.
"""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

# The database is restarting, gone, full or too slow for this request.
AWAY: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.exceptions.OperatorInterventionError,  # 57xxx: admin/crash shutdown, cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx: too many connections, disk full
    asyncpg.InterfaceError,  # the connection was closed under the query, the pool closing
    OSError,  # refused, reset
    TimeoutError,  # no pooled connection in time
)


def install(app: FastAPI, retry_after_seconds: int = 5) -> None:
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "answering 503: a dependency is away",
            extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"[:300]},
        )
        return JSONResponse(
            {"detail": "the service's database or broker is unavailable; retry later"},
            status_code=503,
            headers={"Retry-After": str(retry_after_seconds)},
        )

    for kind in AWAY:
        app.add_exception_handler(kind, unavailable)
