"""`iprwatch ingest`: run the ingest service."""

from __future__ import annotations

import uvicorn

from services.ingest.entrypoints.http import create_app
from services.ingest.settings import IngestSettings
from shared.telemetry import configure_logging


def run() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
