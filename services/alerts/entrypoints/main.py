"""`iprwatch alerts`: run the alerts service."""

from __future__ import annotations

import uvicorn

from services.alerts.entrypoints.http import create_app
from services.alerts.settings import AlertsSettings
from shared.telemetry import configure_logging


def run() -> None:
    settings = AlertsSettings()
    configure_logging("alerts", settings.log_level)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
