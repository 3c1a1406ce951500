"""The alerts service's composition root."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type

from services.alerts.adapters.alert_states import PgAlerts, PgConclusions
from services.alerts.adapters.bulletin_maker import HttpBulletinMaker
from services.alerts.adapters.clock import SystemClock
from services.alerts.adapters.indicator_changes import consume_forever
from services.alerts.adapters.leadership import Leadership
from services.alerts.adapters.recipients_file import load_recipients
from services.alerts.adapters.reports import PostgresReports
from services.alerts.adapters.schema import migrate
from services.alerts.adapters.send_log import PgSendLog
from services.alerts.adapters.series import PgSeries
from services.alerts.adapters.silences import PgSilences
from services.alerts.adapters.smtp import SmtpSender
from services.alerts.adapters.webhook import WebhookSender
from services.alerts.metrics import AlertMetrics
from services.alerts.service.alerting import Alerting
from services.alerts.service.bulletin import BulletinJob
from services.alerts.service.dispatch import Dispatcher
from services.alerts.service.loops import dispatch_forever, evaluate_forever
from services.alerts.service.policy import Policy
from services.alerts.service.ports import Clock, Key, Points, Repositories
from services.alerts.settings import AlertsSettings
from shared.kafka import ensure_topics, manual_consumer
from shared.numbers import SHANGHAI
from shared.plan import load_plan
from shared.plans import PlanSet, load_plans
from shared.postgres import create_pool
from shared.supervision import Backoff, Supervisor
from shared.unavailable import AWAY

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Alerts:
    """The running service. `consumer` exists while this replica leads (`leadership`)."""

    settings: AlertsSettings
    plans: PlanSet
    pool: asyncpg.Pool
    repositories: Repositories
    clock: Clock
    alerting: Alerting
    supervisor: Supervisor
    leadership: Leadership
    consumer: AIOKafkaConsumer | None = None
    reports: PostgresReports | None = None  # the monthly bulletins made


def policy_of(settings: AlertsSettings) -> Policy:
    return Policy(
        for_span=timedelta(seconds=settings.for_seconds),
        hold_down=timedelta(seconds=settings.hold_down_seconds),
        repeat_interval=timedelta(seconds=settings.repeat_interval_seconds),
        group_wait=timedelta(seconds=settings.group_wait_seconds),
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
        window=settings.forecast_window_months,
        settle=timedelta(seconds=settings.settle_seconds),
    )


# What "not there yet" looks like at start-up: worth waiting for, not worth exiting over.
STARTUP_AWAY: tuple[type[BaseException], ...] = (*AWAY, KafkaError)


async def when_reachable(what: str, attempt: Callable[[], Awaitable[T]], backoff: Backoff) -> T:
    """`attempt()` until it succeeds, waiting with backoff while `what` is not there yet."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(STARTUP_AWAY),
        wait=backoff.waits(),
        before_sleep=lambda state: log.warning(
            "%s is not reachable yet; retrying in %.1f s",
            what,
            state.next_action.sleep if state.next_action else 0.0,
            extra={
                "dependency": what,
                "attempt": state.attempt_number,
                "error": repr(state.outcome.exception() if state.outcome else None)[:300],
            },
        ),  # fmt: skip
        reraise=True,
    )
    async for trying in retrying:
        with trying:
            return await attempt()
    raise AssertionError("unreachable")  # pragma: no cover - tenacity never stops here


def legacy_plan_id(settings: AlertsSettings) -> str:
    """The plan an installation from before plans were many followed (IPRWATCH_PLAN_FILE)."""
    return load_plan(settings.plan.plan_file).id


def repositories_of(pool: asyncpg.Pool) -> Repositories:
    return Repositories(
        PgSeries(pool), PgAlerts(pool), PgConclusions(pool), PgSendLog(pool), PgSilences(pool)
    )


async def _open_pool(settings: AlertsSettings) -> asyncpg.Pool:
    """A pool on the alerts schema, the schema created (or an older one moved)."""
    pool = await create_pool(settings.postgres, settings.db_schema)
    try:
        legacy = legacy_plan_id(settings)
        moved = await migrate(pool, legacy)
        if moved:
            log.warning(
                "moved the tables of a one-plan installation to per-plan keys",
                extra={"tables": moved, "plan": legacy},
            )
    except BaseException:
        await pool.close()
        raise
    return pool


async def stored_series(settings: AlertsSettings, plan: str) -> dict[Key, Points]:
    """The series the service holds for `plan` (the backtest's default history)."""
    pool = await _open_pool(settings)
    try:
        return await PgSeries(pool).all_series(plan)
    finally:
        await pool.close()


async def _session(settings: AlertsSettings) -> asyncpg.Connection:
    """A connection of its own for the leadership lease (its session holds the lock)."""
    conn: asyncpg.Connection = await asyncpg.connect(settings.postgres.dsn.get_secret_value())
    return conn


async def _start_consumer(settings: AlertsSettings) -> AIOKafkaConsumer:
    kafka = settings.kafka
    await ensure_topics(kafka, [kafka.indicators_topic])
    consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-alerts")
    consumer.subscribe([kafka.indicators_topic])
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise
    return consumer


def _own_url(settings: AlertsSettings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


async def _bulletins(
    settings: AlertsSettings,
    service: Alerts,
    leading: Callable[[Callable[[], Awaitable[None]]], Callable[[], Awaitable[None]]],
    stopping: asyncio.Event,
) -> PostgresReports:
    """The bulletins' table (created at start-up) and, if enabled, the monthly bulletin job
    (service/bulletin.py), run by the leader only."""
    reports = PostgresReports(service.pool)
    await reports.migrate()
    if settings.bulletin_enabled:
        maker = HttpBulletinMaker(settings.indicators_url, _own_url(settings))
        job = BulletinJob(
            service.plans, service.alerting.recipients, maker, reports, service.alerting.clock,
            settings.smtp.sender, holidays=settings.bulletin_holidays,
        )  # fmt: skip
        every = settings.bulletin_check_seconds
        service.supervisor.start(
            "bulletin", leading(lambda: job.run_forever(every, stopping)), stopping
        )
    return reports


@asynccontextmanager
async def running(
    settings: AlertsSettings, metrics: AlertMetrics, backoff: Backoff | None = None
) -> AsyncIterator[Alerts]:
    """The service connected and its loops running under supervision; stopped on exit.

    A database or broker that is not there yet is waited for (with backoff, logged).
    """
    backoff = backoff or Backoff(maximum=settings.loop_retry_max_seconds)
    plans = load_plans(settings.plan_files())
    log.info("plans loaded", extra={"plans": list(plans.ids)})
    recipients = load_recipients(settings.recipients_file)
    pool = await when_reachable("PostgreSQL", lambda: _open_pool(settings), backoff)
    repositories = repositories_of(pool)
    clock = SystemClock(settings.now.astimezone(SHANGHAI).date() if settings.now else None)
    policy = policy_of(settings)
    alerting = Alerting(repositories, plans, recipients, policy, clock, metrics)
    dispatcher = Dispatcher(
        repositories,
        recipients,
        policy,
        clock,
        metrics,
        SmtpSender(settings.smtp, settings.smtp_ca_file),
        WebhookSender(settings.webhook_timeout_seconds),
        settings.smtp.sender,
    )
    leadership = Leadership(
        lambda: _session(settings),
        settings.db_schema,
        poll_seconds=settings.leader_poll_seconds,
        check_seconds=settings.leader_check_seconds,
    )
    leadership.on_change = lambda leading: metrics.leader.set(1 if leading else 0)
    supervisor = Supervisor(metrics.registry, backoff)
    service = Alerts(settings, plans, pool, repositories, clock, alerting, supervisor, leadership)
    stopping = asyncio.Event()
    every, pace = settings.evaluation_interval_seconds, settings.dispatch_interval_seconds

    async def consume() -> None:
        """Join the consumer group only while leading: a standby takes no partition."""
        consumer = await _start_consumer(settings)
        service.consumer = consumer
        try:
            await consume_forever(consumer, alerting, stopping)
        finally:
            service.consumer = None
            alerting.caught_up.clear()  # a new leader reads the topic to its end again
            with contextlib.suppress(Exception):
                await consumer.stop()

    def leading(loop: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        return lambda: leadership.while_leading(loop, stopping)

    supervisor.start("leadership", lambda: leadership.hold_forever(stopping), stopping)
    supervisor.start("consumer", leading(consume), stopping)
    supervisor.start(
        "evaluation", leading(lambda: evaluate_forever(alerting, every, stopping)), stopping
    )
    supervisor.start(
        "dispatch", leading(lambda: dispatch_forever(dispatcher, pace, stopping)), stopping
    )
    service.reports = await _bulletins(settings, service, leading, stopping)
    try:
        yield service
    finally:
        stopping.set()  # the loops finish what they are doing: a mail in flight completes
        await supervisor.stop(timeout=settings.smtp.timeout_seconds * 3 + 5)
        await pool.close()
