"""The alerts service's settings, composed from the shared building blocks."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings, PlanSettings, PostgresSettings, SmtpSettings


class AlertsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_ALERTS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    db_schema: str = "alerts"
    consumer_group: str = "iprwatch-alerts"
    log_level: str = "INFO"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
