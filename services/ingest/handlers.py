"""What the ingest service does with a request: validate every event, then publish all of them."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from services.ingest.domain.validation import InvalidEvents, validate_events
from services.ingest.metrics import IngestMetrics
from shared.events import CloudEvent
from shared.plan import Plan


class Publisher(Protocol):
    async def publish(self, events: Sequence[CloudEvent]) -> None: ...


class EventIntake:
    def __init__(self, plan: Plan, publisher: Publisher, metrics: IngestMetrics) -> None:
        self.plan = plan
        self.publisher = publisher
        self.metrics = metrics

    async def accept(self, raw_events: Sequence[Any]) -> int:
        """Validate the whole request, publish it, and return how many events Kafka holds."""
        try:
            events = validate_events(raw_events, self.plan.district_codes, datetime.now(UTC))
        except InvalidEvents:
            self.metrics.events_rejected.labels("invalid").inc(len(raw_events))
            raise
        started = time.perf_counter()
        await self.publisher.publish(events)
        self.metrics.publish_seconds.observe(time.perf_counter() - started)
        for event_type, count in Counter(e.type for e in events).items():
            self.metrics.events_accepted.labels(event_type).inc(count)
        return len(events)
