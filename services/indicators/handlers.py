"""Turning a batch of Kafka records into acts, dead letters and one store transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from services.indicators.adapters.store import BatchResult, IndicatorStore, Position
from services.indicators.domain.acts import Act, Unfoldable, parse_record
from services.indicators.domain.fold import Deltas, Fold
from services.indicators.domain.values import changed_keys
from shared.plan import Plan

log = logging.getLogger(__name__)


class DeadLetters(Protocol):
    async def send(self, record: Any, reason: str, detail: str) -> None: ...


@dataclass(frozen=True)
class Prepared:
    """A parsed batch: each record's position and act (None: dead-lettered)."""

    records: list[tuple[Position, Act | None]]
    dead: list[tuple[Any, Unfoldable]]


class FoldHandler:
    def __init__(self, plan: Plan, store: IndicatorStore, dead_letters: DeadLetters) -> None:
        self.plan = plan
        self.store = store
        self.dead_letters = dead_letters
        self.fold = Fold(plan.baseline_date, plan.zone)
        self.indicators = frozenset(plan.indicator_keys)

    def prepare(self, records: Sequence[Any]) -> Prepared:
        """Parse aiokafka ConsumerRecords (CPU only: may run while the last batch commits)."""
        parsed: list[tuple[Position, Act | None]] = []
        dead: list[tuple[Any, Unfoldable]] = []
        codes = self.plan.district_codes
        for record in records:
            position = Position(record.topic, record.partition, record.offset)
            try:
                act = parse_record(record.value, record.headers)
                if act.district not in codes or (
                    act.from_district is not None and act.from_district not in codes
                ):
                    raise Unfoldable("not_in_plan", f"district of {act.id} is not in the plan")
            except Unfoldable as exc:
                dead.append((record, exc))
                parsed.append((position, None))
                continue
            parsed.append((position, act))
        return Prepared(parsed, dead)

    async def commit(
        self, batch: Prepared, accept_gaps: frozenset[int] = frozenset()
    ) -> tuple[BatchResult, list[str]]:
        """Apply the batch; what cannot be folded is dead-lettered within the transaction.

        Returns the result and the reasons of the records dead-lettered.
        """
        problems = {(r.topic, r.partition, r.offset): (r, problem) for r, problem in batch.dead}
        reasons: list[str] = []

        async def dead_letter(positions: list[Position]) -> None:
            reasons.clear()
            for position in positions:
                record, problem = problems[(position.topic, position.partition, position.offset)]
                log.warning("dead letter %s/%d@%d: %s", record.topic, record.partition,
                            record.offset, problem)  # fmt: skip
                await self.dead_letters.send(record, problem.reason, problem.detail)
                reasons.append(problem.reason)

        result = await self.store.apply(batch.records, self.deltas, accept_gaps, dead_letter)
        return result, reasons

    async def handle(self, records: Sequence[Any]) -> BatchResult:
        return (await self.commit(self.prepare(records)))[0]

    def deltas(
        self, states: dict[str, list[Act]], new: Sequence[Act]
    ) -> tuple[Deltas, set[tuple[str, str, date]]]:
        """The deltas of the new acts given the recorded acts of their state keys."""
        deltas: Deltas = {}
        grouped: dict[str, list[Act]] = defaultdict(list)
        for act in new:
            key = act.state_key
            if key is None:
                self.fold.alone(act, deltas)
            else:
                grouped[key].append(act)
        for key, acts in grouped.items():
            self.fold.change(states.get(key, []), acts, deltas)
        kept = {k: a for k, a in deltas.items() if a != 0 and k[1] in self.indicators}
        return kept, changed_keys(self.plan, kept)
