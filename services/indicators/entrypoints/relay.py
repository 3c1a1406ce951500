"""The outbox relay: publish each changed (district, indicator) value to ipr.indicators.v1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from services.indicators.adapters.store import IndicatorStore

log = logging.getLogger(__name__)
CHANGED_TYPE = "cn.ipr.indicator.changed"


async def relay_forever(
    store: IndicatorStore,
    producer: AIOKafkaProducer,
    topic: str,
    poll_seconds: float,
    stopping: asyncio.Event,
) -> None:
    """At least once: a row is marked published only after Kafka acknowledged it."""
    while not stopping.is_set():
        rows = await store.unpublished()
        if not rows:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), poll_seconds)
            continue
        futures = []
        for row in rows:
            headers = [
                ("ce_specversion", b"1.0"),
                ("ce_id", f"{row['district']}/{row['indicator']}/{row['key_seq']}".encode()),
                ("ce_source", b"/iprwatch/indicators"),
                ("ce_type", CHANGED_TYPE.encode()),
                ("ce_time", datetime.now(UTC).isoformat().encode()),
                ("content-type", b"application/json"),
            ]
            value = json.dumps(
                {
                    "district": row["district"],
                    "indicator": row["indicator"],
                    "value": float(row["value"]),
                    "seq": row["key_seq"],
                }
            ).encode()
            futures.append(
                await producer.send(topic, value, key=row["district"].encode(), headers=headers)
            )
        await asyncio.gather(*futures)
        await store.mark_published([row["position"] for row in rows])
