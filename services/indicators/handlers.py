"""Turning a batch of Kafka records into acts, dead letters and one store transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from services.indicators.adapters.store import (
    RECORD_FAULTS,
    BatchResult,
    IndicatorStore,
    Position,
)
from services.indicators.domain.acts import Act, Unfoldable, parse_record
from services.indicators.domain.fold import Deltas, Fold
from services.indicators.domain.values import changed_keys
from shared.plans import PlanSet

log = logging.getLogger(__name__)


class DeadLetters(Protocol):
    async def send(self, record: Any, reason: str, detail: str) -> None: ...


@dataclass(frozen=True)
class Prepared:
    """A parsed batch: each record's position and act (None: dead-lettered)."""

    records: list[tuple[Position, Act | None]]
    dead: list[tuple[Any, Unfoldable]]
    originals: dict[tuple[str, int, int], Any]  # (topic, partition, offset) -> the record


class FoldHandler:
    """The fold counts every act, for no plan; the plans only say which keys changed."""

    def __init__(self, plans: PlanSet, store: IndicatorStore, dead_letters: DeadLetters) -> None:
        self.plans = plans
        self.store = store
        self.dead_letters = dead_letters
        self.fold = Fold(plans.zone)

    def prepare(self, records: Sequence[Any]) -> Prepared:
        """Parse aiokafka ConsumerRecords (CPU only: may run while the last batch commits)."""
        parsed: list[tuple[Position, Act | None]] = []
        dead: list[tuple[Any, Unfoldable]] = []
        originals = {(r.topic, r.partition, r.offset): r for r in records}
        for record in records:
            position = Position(record.topic, record.partition, record.offset)
            try:
                act = parse_record(record.value, record.headers)
            except Unfoldable as exc:
                dead.append((record, exc))
                parsed.append((position, None))
                continue
            except Exception as exc:  # noqa: BLE001 - whatever one record does, it is its own
                log.warning("record %s/%d@%d could not be read", record.topic, record.partition,
                            record.offset, exc_info=True)  # fmt: skip
                dead.append((record, Unfoldable("malformed", f"{type(exc).__name__}: {exc}")))
                parsed.append((position, None))
                continue
            parsed.append((position, act))
        return Prepared(parsed, dead, originals)

    async def commit(
        self, batch: Prepared, accept_gaps: frozenset[int] = frozenset()
    ) -> tuple[BatchResult, list[str]]:
        """Apply the batch; what cannot be folded is dead-lettered within the transaction.

        When the database refuses the batch because of what one record holds (a
        `RECORD_FAULTS` error: a byte it cannot store, a value out of range), the batch is
        applied again in halves, in (partition, offset) order so that the stored offsets only
        grow, until the record is alone: it is dead-lettered (reason `unstorable`) and the
        rest commits. Any other failure (database or broker away) is raised, to be retried.

        Returns the result and the reasons of the records dead-lettered.
        """
        problems = {(r.topic, r.partition, r.offset): (r, problem) for r, problem in batch.dead}
        reasons: list[str] = []
        ordered = sorted(batch.records, key=lambda item: (item[0].partition, item[0].offset))
        results = await self._apply_isolating(ordered, batch, problems, reasons, accept_gaps)
        return _merge(results), reasons

    async def _apply_isolating(
        self,
        records: list[tuple[Position, Act | None]],
        batch: Prepared,
        problems: dict[tuple[str, int, int], tuple[Any, Unfoldable]],
        reasons: list[str],
        accept_gaps: frozenset[int],
    ) -> list[BatchResult]:
        sent: list[str] = []

        async def dead_letter(positions: list[Position]) -> None:
            sent.clear()  # a transaction tried again sends its dead letters again
            for position in positions:
                record, problem = problems[(position.topic, position.partition, position.offset)]
                log.warning("dead letter %s/%d@%d: %s", record.topic, record.partition,
                            record.offset, problem)  # fmt: skip
                await self.dead_letters.send(record, problem.reason, problem.detail)
                sent.append(problem.reason)

        try:
            result = await self.store.apply(records, self.deltas, accept_gaps, dead_letter)
        except RECORD_FAULTS as exc:
            if len(records) == 1:
                position, act = records[0]
                if act is None:  # nothing of the record is stored: not its fault after all
                    raise
                key = (position.topic, position.partition, position.offset)
                record = batch.originals[key]
                detail = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("record %s/%d@%d cannot be stored: %s", position.topic,
                            position.partition, position.offset, detail)  # fmt: skip
                problems[key] = (record, Unfoldable("unstorable", detail))
                return await self._apply_isolating(
                    [(position, None)], batch, problems, reasons, accept_gaps
                )
            log.warning("a record of a batch of %d cannot be stored (%s): isolating it",
                        len(records), type(exc).__name__)  # fmt: skip
            half = len(records) // 2
            first = await self._apply_isolating(
                records[:half], batch, problems, reasons, accept_gaps
            )
            return first + await self._apply_isolating(
                records[half:], batch, problems, reasons, accept_gaps
            )
        reasons.extend(sent)
        return [result]

    async def handle(self, records: Sequence[Any]) -> BatchResult:
        return (await self.commit(self.prepare(records)))[0]

    def deltas(
        self, states: dict[str, list[Act]], new: Sequence[Act]
    ) -> tuple[Deltas, set[tuple[str, str, str, date]]]:
        """The deltas of the new acts given the recorded acts of their state keys, and the
        (plan, division, indicator, month) values they change."""
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
        kept = {k: a for k, a in deltas.items() if a != 0}
        return kept, changed_keys(self.plans, kept)


def _merge(results: Sequence[BatchResult]) -> BatchResult:
    if len(results) == 1:
        return results[0]
    gaps: dict[tuple[str, int], int] = {}
    for result in results:
        gaps.update(result.gaps)
    return BatchResult(
        sum(r.applied for r in results),
        sum(r.duplicates for r in results),
        sum(r.skipped for r in results),
        gaps,
        tuple(position for r in results for position in r.dead),
    )
