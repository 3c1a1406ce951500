"""Settings building blocks, one class per concern; each service composes its own `Settings`.

Every value comes from the environment (prefix `IPRWATCH_<CONCERN>_`), so the local stack,
docker-compose and the tests configure the services the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.plan import default_plan_path
from shared.plans import PlanSet, load_plans, plan_files


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    events_topic: str = "ipr.events.v1"
    indicators_topic: str = "ipr.indicators.v1"
    dead_letter_topic: str = "ipr.events.dlq.v1"
    partitions: int = Field(default=6, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1)
    # the in-sync copies an acks=all write needs (topic config min.insync.replicas) of the topics
    # the services create: 2 on a cluster of three, so that one broker may be lost without
    # losing or refusing a write; unset, the broker's own default applies
    min_insync_replicas: int | None = Field(default=None, ge=1)
    request_timeout_ms: int = Field(default=10_000, ge=1000)

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> Self:
        if (self.min_insync_replicas or 1) > self.replication_factor:
            raise ValueError(
                f"IPRWATCH_KAFKA_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) cannot exceed "
                f"IPRWATCH_KAFKA_REPLICATION_FACTOR ({self.replication_factor}): no write "
                "could ever be acknowledged"
            )
        return self


class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_PG_", extra="ignore")

    dsn: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/iprwatch")
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=5, ge=1)


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout_seconds: float = 10.0
    sender: str = "IPR Watch <iprwatch@localhost>"


class PlanSettings(BaseSettings):
    """Which plans a service follows.

    `IPRWATCH_PLANS`: plan files or folders, comma-separated (every `*.yaml` of a folder);
    unset, `IPRWATCH_PLAN_FILE` when it is set (one plan, the setting of earlier versions),
    else every bundled plan in `deploy/plans/`.
    """

    model_config = SettingsConfigDict(env_prefix="IPRWATCH_", extra="ignore")

    plans: str = ""
    plan_file: Path = Field(default_factory=default_plan_path)

    def files(self) -> list[Path]:
        if self.plans.strip():
            return plan_files(self.plans)
        if "plan_file" in self.model_fields_set:
            return [self.plan_file]
        return plan_files("")

    def load(self) -> PlanSet:
        """Every plan, checked together; raises `PlanError` naming file, key and problem."""
        return load_plans(self.files())
