"""Turning a batch of Kafka records into acts and applying them to the store."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.indicators.adapters.store import Act, BatchResult, IndicatorStore, Position
from services.indicators.domain.fold import deltas_for
from shared.events import CloudEvent, from_kafka
from shared.plan import Plan

log = logging.getLogger(__name__)


def act_of(event: CloudEvent, plan: Plan) -> Act:
    return Act(
        source=event.source,
        id=event.id,
        type=event.type,
        subject=event.subject,
        district=event.district,
        act_time=event.time,
        deltas=tuple(deltas_for(event, plan.baseline_date, ZoneInfo(plan.timezone))),
    )


class FoldHandler:
    def __init__(self, plan: Plan, store: IndicatorStore) -> None:
        self.plan = plan
        self.store = store

    async def handle(self, records: Sequence[Any]) -> BatchResult:
        """Fold aiokafka ConsumerRecords; a record that cannot be parsed folds to nothing."""
        batch: list[tuple[Position, Act | None]] = []
        for record in records:
            position = Position(record.topic, record.partition, record.offset)
            try:
                event = from_kafka(record.value, record.headers)
            except (ValidationError, ValueError, json.JSONDecodeError) as exc:
                log.warning("unfoldable record %s: %s", position, exc)
                batch.append((position, None))
                continue
            batch.append((position, act_of(event, self.plan)))
        return await self.store.apply(batch)
