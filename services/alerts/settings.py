"""The alerts service's settings, composed from the shared building blocks."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings, PlanSettings, PostgresSettings, SmtpSettings

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _default_recipients() -> Path:
    return REPO_ROOT / "deploy" / "alerts" / "recipients.yaml"


class AlertsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_ALERTS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    db_schema: str = "alerts"
    consumer_group: str = "iprwatch-alerts"
    log_level: str = "INFO"
    recipients_file: Path = Field(default_factory=_default_recipients)
    admin_token: SecretStr | None = None  # write endpoints refuse every call without one
    # "today" for the plan's path (Asia/Shanghai); unset: the real date. Tests, demos, backtests.
    now: datetime | None = None
    for_seconds: float = Field(default=86_400, ge=0)  # pending → firing
    hold_down_seconds: float = Field(default=86_400, ge=0)  # condition gone → resolved
    # An ended plan's final evaluation (and a later change of an outcome) waits until no value
    # of the plan has changed for this long: not while the fold is still catching up.
    settle_seconds: float = Field(default=600, ge=0)
    repeat_interval_seconds: float = Field(default=7 * 86_400, gt=0)
    group_wait_seconds: float = Field(default=30, ge=0)
    evaluation_interval_seconds: float = Field(default=3_600, gt=0)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    forecast_window_months: int = Field(default=24, ge=3)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # A background loop that failed (database or broker away) is restarted after 0.5 s, then
    # waits twice as long each time, at most this long: the service is ready again within
    # about this many seconds after its database comes back.
    loop_retry_max_seconds: float = Field(default=5.0, ge=0.5, le=300)
    # CA bundle that signs the SMTP server's certificate (STARTTLS or implicit TLS) when it is
    # not one of the system's CAs, e.g. a ministry's private CA; unset: the system's CAs.
    smtp_ca_file: Path | None = None
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    # the lease that lets one replica evaluate and send at a time (adapters/leadership.py)
    leader_poll_seconds: float = Field(default=2.0, gt=0)  # a standby tries the lease this often
    leader_check_seconds: float = Field(default=1.0, gt=0)  # the leader checks its session
    # The monthly bulletin (service/bulletin.py): made from the indicators API (the same
    # variable `iprwatch report` reads) and mailed on each month's first working day.
    indicators_url: str = Field(
        default="http://127.0.0.1:8002",
        validation_alias=AliasChoices("IPRWATCH_INDICATORS_URL", "indicators_url"),
    )
    bulletin_enabled: bool = True
    # Chinese public holidays and make-up working days (chinesecalendar); off, or for a year
    # the library has no schedule of: Monday to Friday.
    bulletin_holidays: bool = True
    bulletin_check_seconds: float = Field(default=900.0, gt=0)  # a round, and a retry, this often

    def plan_files(self) -> list[Path]:
        """The plan files to load: IPRWATCH_PLANS, else IPRWATCH_PLAN_FILE, else the bundled
        plans (`shared.settings.PlanSettings`, as every service reads them)."""
        return self.plan.files()

    @field_validator("now", mode="before")
    @classmethod
    def _date_is_midday(cls, value: object) -> object:
        """A bare date `2024-06-30` means that day (noon, Beijing time)."""
        if isinstance(value, str) and len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12)).isoformat() + "+08:00"
        return value
