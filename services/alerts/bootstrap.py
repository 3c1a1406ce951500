"""The alerts service's composition root."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer

from services.alerts.adapters.recipients_file import load_recipients
from services.alerts.adapters.smtp import SmtpSender
from services.alerts.adapters.store import AlertStore
from services.alerts.adapters.webhook import WebhookSender
from services.alerts.dispatch import Dispatcher
from services.alerts.domain.numbers import SHANGHAI
from services.alerts.entrypoints.consumer import consume_forever
from services.alerts.entrypoints.loops import dispatch_forever, evaluate_forever
from services.alerts.handlers import Alerting, Policy, SystemClock
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared.kafka import ensure_topics, manual_consumer
from shared.plan import Plan, load_plan
from shared.postgres import create_pool

log = logging.getLogger(__name__)


@dataclass
class Alerts:
    settings: AlertsSettings
    plan: Plan
    consumer: AIOKafkaConsumer
    pool: asyncpg.Pool
    store: AlertStore
    alerting: Alerting


def policy_of(settings: AlertsSettings) -> Policy:
    return Policy(
        for_span=timedelta(seconds=settings.for_seconds),
        hold_down=timedelta(seconds=settings.hold_down_seconds),
        repeat_interval=timedelta(seconds=settings.repeat_interval_seconds),
        group_wait=timedelta(seconds=settings.group_wait_seconds),
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
        window=settings.forecast_window_months,
    )


@asynccontextmanager
async def running(settings: AlertsSettings, metrics: AlertMetrics) -> AsyncIterator[Alerts]:
    plan = load_plan(settings.plan.plan_file)
    recipients = load_recipients(settings.recipients_file)
    pool = await create_pool(settings.postgres, settings.db_schema)
    store = AlertStore(pool)
    await store.migrate()
    clock = SystemClock(settings.now.astimezone(SHANGHAI).date() if settings.now else None)
    unconfirmed = await store.recover_in_flight(clock.now())
    if unconfirmed:
        log.warning(
            "messages interrupted after their end of data: marked unconfirmed, not resent",
            extra={"count": unconfirmed},
        )
    policy = policy_of(settings)
    alerting = Alerting(store, plan, recipients, policy, clock, metrics)
    dispatcher = Dispatcher(
        store,
        recipients,
        policy,
        clock,
        metrics,
        SmtpSender(settings.smtp, settings.crash_point, settings.smtp_ca_file),
        WebhookSender(settings.webhook_timeout_seconds),
        settings.smtp.sender,
    )
    kafka = settings.kafka
    await ensure_topics(kafka, [kafka.indicators_topic])
    consumer = manual_consumer(kafka, settings.consumer_group, "iprwatch-alerts")
    consumer.subscribe([kafka.indicators_topic])
    await consumer.start()
    stopping = asyncio.Event()
    tasks = [
        asyncio.create_task(consume_forever(consumer, alerting, stopping)),
        asyncio.create_task(
            evaluate_forever(alerting, settings.evaluation_interval_seconds, stopping)
        ),
        asyncio.create_task(
            dispatch_forever(dispatcher, settings.dispatch_interval_seconds, stopping)
        ),
    ]
    try:
        yield Alerts(settings, plan, consumer, pool, store, alerting)
    finally:
        stopping.set()  # the loops finish what they are doing: a mail in flight completes
        await asyncio.wait(tasks, timeout=settings.smtp.timeout_seconds * 3 + 5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await pool.close()
