"""What the ingest service does with a request: check scope, validate every event, publish all."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.ingest.domain.grants import TokenGrant
from services.ingest.domain.validation import (
    InvalidEvents,
    OutOfScope,
    check_scope,
    type_label,
    validate_events,
)
from services.ingest.metrics import IngestMetrics
from services.ingest.service.ports import Publisher
from shared.plans import PlanSet


class EventIntake:
    def __init__(self, plans: PlanSet, publisher: Publisher, metrics: IngestMetrics) -> None:
        self.plans = plans
        self.codes = plans.event_codes()
        self.reported = plans.reported_indicators()
        self.report_codes = plans.report_codes()
        self.publisher = publisher
        self.metrics = metrics

    async def accept(self, raw_events: Sequence[Any], grant: TokenGrant) -> int:
        """Check, validate and publish the whole request; return how many events Kafka holds.

        Raises `OutOfScope` or `InvalidEvents` (nothing published), or the publisher's error.
        """
        try:
            check_scope(raw_events, grant)
            events = validate_events(
                raw_events, self.codes, datetime.now(UTC), self.reported, self.report_codes
            )
        except (OutOfScope, InvalidEvents) as exc:
            self._count_rejected(raw_events, {p.index: p.reason for p in exc.problems})
            raise
        started = time.perf_counter()
        try:
            await self.publisher.publish(events)
        except Exception:
            self._count_rejected(raw_events, {}, default="broker_unavailable")
            raise
        self.metrics.publish_seconds.observe(time.perf_counter() - started)
        for event_type, count in Counter(e.type for e in events).items():
            self.metrics.events_accepted.labels(event_type).inc(count)
        return len(events)

    def _count_rejected(
        self, raw_events: Sequence[Any], reasons: dict[int, str], default: str = "batch_rejected"
    ) -> None:
        counts = Counter(
            (type_label(raw), reasons.get(index, default)) for index, raw in enumerate(raw_events)
        )
        for (event_type, reason), count in counts.items():
            self.metrics.events_rejected.labels(event_type, reason).inc(count)
