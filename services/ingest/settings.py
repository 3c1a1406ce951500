"""The ingest service's settings, composed from the shared building blocks."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.ingest.adapters.tokens import default_tokens_file
from shared.settings import KafkaSettings, PlanSettings


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    # Worker processes behind the one port, each with its own Kafka producer; the metrics are
    # summed over them. 1 (development, tests) runs everything in one process.
    workers: int = Field(default=1, ge=1, le=64)
    # How long the supervisor waits for a worker to answer its health check (the first answer
    # comes once the worker has imported its code: seconds on a busy machine) before it
    # replaces the worker.
    worker_healthcheck_seconds: int = Field(default=30, ge=1)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=10_000, ge=1)
    publish_timeout_seconds: float = Field(default=5.0, gt=0)
    retry_after_seconds: int = Field(default=5, ge=1)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=60.0, gt=0)
    tokens_file: Path = Field(default_factory=default_tokens_file)
    producer_batch_bytes: int = Field(default=512 * 1024, ge=16 * 1024, le=1_000_000)
    log_level: str = "INFO"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
