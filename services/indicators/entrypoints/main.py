"""`iprwatch indicators`: run the indicators service (fold, relay and HTTP API)."""

from __future__ import annotations

import uvicorn

from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.telemetry import configure_logging


def run() -> None:
    settings = IndicatorsSettings()
    configure_logging("indicators", settings.log_level)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
