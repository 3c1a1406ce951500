"""Answer 503 (with `Retry-After`), never 500, while a dependency is away.

A read that needs PostgreSQL while it restarts, or a write to Kafka while no broker answers,
is not the client's fault and not a bug: it is worth retrying. `install` adds one exception
handler per kind of "away" error to a FastAPI app.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

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


# --- for commands: say which setting points at the dependency that did not answer ---

SETTING_OF = {
    "postgres": ("PostgreSQL", "IPRWATCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/iprwatch"),
    "kafka": ("Kafka", "IPRWATCH_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
}


def describe(exc: BaseException, environ: Mapping[str, str] | None = None) -> str | None:
    """One readable line for a dependency that did not answer, or None for another error."""
    source = os.environ if environ is None else environ
    kind = _kind_of(exc)
    if kind is None:
        return None
    name, setting, default = SETTING_OF[kind]
    value = source.get(setting, f"{default} (the default)")
    if kind == "postgres":
        value = _without_password(value)
    return (
        f"cannot reach {name} ({exc}); it is configured by {setting}={value}: "
        "start the local stack with `make up`, or set it to where yours runs"
    )


def _kind_of(exc: BaseException) -> str | None:
    module = type(exc).__module__
    if module.startswith("aiokafka") and "Connection" in type(exc).__name__:
        return "kafka"
    if module.startswith("asyncpg") and "Connect" in type(exc).__name__:
        return "postgres"
    if isinstance(exc, OSError) and "Connect call failed" in str(exc):
        return "postgres"  # asyncpg's refused connection is a plain OSError
    return None


def _without_password(dsn: str) -> str:
    scheme, sep, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return dsn
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
