"""The indicators service's settings, composed from the shared building blocks."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings, PlanSettings, PostgresSettings


class IndicatorsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_INDICATORS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    db_schema: str = "indicators"
    consumer_group: str = "iprwatch-indicators"
    batch_max_records: int = Field(default=5000, ge=1)
    # Fold transactions in flight at once, each lane over its own share of the partitions
    # (partition mod lanes): one lane's Python runs while another's transaction is in PostgreSQL.
    fold_lanes: int = Field(default=2, ge=1, le=16)
    # The API's snapshot is refreshed when a fold transaction changed the totals (at most
    # every `snapshot_min_interval_seconds`), and at least every `snapshot_refresh_seconds`.
    snapshot_refresh_seconds: float = Field(default=2.0, gt=0)
    snapshot_min_interval_seconds: float = Field(default=0.1, ge=0)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    # The API's and the snapshot's reads use a pool of their own, so readers never take the
    # fold's connections; each statement of theirs is cancelled after the timeout.
    read_pool_max_size: int = Field(default=2, ge=1, le=50)
    read_statement_timeout_ms: int = Field(default=5000, ge=100)
    # Pages of GET /v1/indicators (the whole plan is 39 places x 13 indicators = 507 items).
    page_default_limit: int = Field(default=1000, ge=1)
    page_max_limit: int = Field(default=1000, ge=1)
    # A division's page: its latest acts (read per request), and its current alerts from the
    # alerts service's API when `IPRWATCH_ALERTS_URL` is set (the variable `iprwatch report`
    # reads), each asked at most `alerts_timeout_seconds`; a read token as the bulletin's.
    division_latest_acts: int = Field(default=20, ge=1, le=200)
    alerts_url: str | None = Field(
        default=None, validation_alias=AliasChoices("IPRWATCH_ALERTS_URL", "alerts_url")
    )
    alerts_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    log_level: str = "INFO"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
