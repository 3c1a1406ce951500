"""Kafka helpers: producer and consumer factories with the project's settings, topic creation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import KafkaSettings

log = logging.getLogger(__name__)


def reliable_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """A producer that acknowledges only what every in-sync replica holds, without duplicates."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=settings.request_timeout_ms,
    )


def manual_consumer(settings: KafkaSettings, group_id: str, client_id: str) -> AIOKafkaConsumer:
    """A consumer that never commits offsets to Kafka: its owner stores them with its state."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=5000,
        request_timeout_ms=max(settings.request_timeout_ms, 40_000),
    )


async def consumer_reaches_broker(consumer: AIOKafkaConsumer, timeout: float = 2.0) -> bool:
    """For readiness: can the consumer fetch the cluster's metadata now? Never raises."""
    try:
        await asyncio.wait_for(consumer.topics(), timeout)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


async def ensure_topics(settings: KafkaSettings, names: Iterable[str]) -> None:
    """Create the topics that do not exist yet, with the configured partition count,
    replication factor and `min.insync.replicas`."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        request_timeout_ms=settings.request_timeout_ms,
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return
        topics = [
            NewTopic(
                name=name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=(
                    {"min.insync.replicas": str(settings.min_insync_replicas)}
                    if settings.min_insync_replicas
                    else {}
                ),
            )
            for name in missing
        ]
        try:
            await admin.create_topics(topics)
            log.info(
                "created topics %s with %d partitions, %d replicas, min.insync.replicas %s",
                missing, settings.partitions, settings.replication_factor,
                settings.min_insync_replicas or "(the broker's default)",
            )  # fmt: skip
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()
