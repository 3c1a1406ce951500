"""`iprwatch ingest`: run the ingest service."""

from __future__ import annotations

import gc

import uvicorn

from services.ingest.entrypoints.http import create_app
from services.ingest.entrypoints.server import deadline_protocol
from services.ingest.settings import IngestSettings
from shared.telemetry import configure_logging


def run() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    # A 1,000-event request makes some 10,000 objects: collect the young generation less often,
    # and keep what was loaded at start out of every collection.
    gc.set_threshold(50_000, 20, 50)
    gc.freeze()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        http=deadline_protocol(settings.header_timeout_seconds, settings.body_timeout_seconds),
    )
