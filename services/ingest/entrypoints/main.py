"""`iprwatch ingest`: run the ingest service.

One process by default. With `IPRWATCH_INGEST_WORKERS` = N > 1, uvicorn's supervisor binds the
port and runs N worker processes that share it (the kernel hands each new connection to one of
them) and replaces a worker that dies. Each worker builds its own app, Kafka producer and
metrics; prometheus-client's multiprocess mode, in a folder of this run's own, lets `/metrics`
sum them all.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from typing import Any, cast

import uvicorn
from fastapi import FastAPI

from services.ingest.entrypoints.http import create_app
from services.ingest.entrypoints.server import deadline_protocol
from services.ingest.metrics import MULTIPROC_ENV, IngestMetrics
from services.ingest.settings import IngestSettings
from shared.collector import collect_less_often
from shared.telemetry import configure_logging

log = logging.getLogger(__name__)
PARENT_CHECK_SECONDS = 1.0


def run() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    if settings.workers == 1:
        uvicorn.run(_app(settings), **_server_options(settings))
        return
    shared = tempfile.mkdtemp(prefix="iprwatch-ingest-metrics-")
    os.environ[MULTIPROC_ENV] = shared  # before the workers start: they inherit it
    log.info("starting %d ingest workers", settings.workers, extra={"metrics_dir": shared})
    try:
        uvicorn.run(
            f"{__name__}:worker_app", factory=True, workers=settings.workers,
            timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
            **_server_options(settings),
        )  # fmt: skip
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn calls this in each worker)."""
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    _exit_with(os.getppid())
    return _app(settings)


def _app(settings: IngestSettings) -> FastAPI:
    collect_less_often(50_000)  # a 1,000-event request makes some 10,000 objects
    return create_app(settings, IngestMetrics())


def _server_options(settings: IngestSettings) -> dict[str, Any]:
    # A partial of a module-level class (not a class made at run time), so that it reaches the
    # worker processes, which uvicorn starts by pickling its configuration.
    protocol = deadline_protocol(settings.header_timeout_seconds, settings.body_timeout_seconds)
    return {
        "host": settings.host, "port": settings.port, "log_config": None,
        "http": cast(Any, protocol),
    }  # fmt: skip


def _exit_with(parent: int) -> None:
    """Stop this worker (gracefully, as on SIGTERM) once its supervisor is gone, so that a
    supervisor killed outright leaves no worker holding the port."""

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(PARENT_CHECK_SECONDS)
        log.warning("the ingest supervisor (pid %d) is gone: stopping this worker", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
