"""Folding a batch of Kafka records: parse into acts, apply once in one transaction, dead-letter.

The rules of which records a transaction applies are `domain.batch.screen`'s; the deltas are
`domain.fold`'s; this module runs them against the `FoldStore` port: claim the partitions'
offsets, screen, record the fresh acts, read the states of their rights, add the deltas, bump
the outbox, store the next offsets, dead-letter (inside the transaction: a record is
dead-lettered once its offset is stored). A conflict retries the transaction; a record the
database refuses is isolated by halving the batch until it is alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from services.indicators.domain.acts import Act, Unfoldable, parse_record
from services.indicators.domain.batch import (
    BatchResult,
    Position,
    Record,
    merged,
    partitions_of,
    screen,
)
from services.indicators.domain.fold import Deltas, Fold
from services.indicators.domain.values import changed_keys
from services.indicators.service.ports import (
    Changed,
    DeadLetters,
    FoldStore,
    FoldTransaction,
    RecordFault,
    TransactionConflict,
)
from shared.plans import PlanSet

log = logging.getLogger(__name__)


DeadLetterer = Callable[[list[Position]], Awaitable[None]]
ATTEMPTS = 5  # tries of one transaction that conflicts


@dataclass(frozen=True)
class Prepared:
    """A parsed batch: each record's position and act (None: dead-lettered)."""

    records: list[tuple[Position, Act | None]]
    dead: list[tuple[Any, Unfoldable]]
    originals: dict[tuple[str, int, int], Any]  # (topic, partition, offset) -> the record

    def __len__(self) -> int:
        return len(self.records)

    def joined(self, later: Prepared) -> Prepared:
        """This batch and records fetched after it, as one batch.

        A later record at or below the last offset of its partition here was read again after
        a seek back (a gap, a rebalance) and is left out: with it, the batch could hold a
        partition's records with a hole between them, which no floor would see. Leaving it
        out loses nothing: either this batch holds it already, or this batch starts past the
        stored floor (a gap) and the partition is read again from there.
        """
        last: dict[int, int] = {}
        for position, _ in self.records:
            last[position.partition] = max(last.get(position.partition, -1), position.offset)
        records = [(p, act) for p, act in later.records if p.offset > last.get(p.partition, -1)]
        if not records:
            return self
        dead = [(r, why) for r, why in later.dead if r.offset > last.get(r.partition, -1)]
        originals = {key: r for key, r in later.originals.items() if key[2] > last.get(key[1], -1)}
        return Prepared(self.records + records, self.dead + dead, self.originals | originals)


class FoldHandler:
    """The fold counts every act, for no plan; the plans only say which keys changed."""

    def __init__(self, plans: PlanSet, store: FoldStore, dead_letters: DeadLetters) -> None:
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
        # by position (topic, partition, offset): one topic, so (partition, offset) order
        ordered = sorted(batch.records, key=itemgetter(0))
        results = await self._apply_isolating(ordered, batch, problems, reasons, accept_gaps)
        return merged(results), reasons

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
            result = await self.apply(records, accept_gaps, dead_letter)
        except RecordFault as exc:
            if len(records) == 1:
                position, act = records[0]
                if act is None:  # nothing of the record is stored: not its fault after all
                    raise
                key = (position.topic, position.partition, position.offset)
                record = batch.originals[key]
                detail = str(exc)[:500]
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

    async def apply(
        self,
        records: Sequence[Record],
        accept_gaps: frozenset[int] = frozenset(),
        dead_letter: DeadLetterer | None = None,
    ) -> BatchResult:
        """Apply records of one topic, in (partition, offset) order, exactly once."""
        if not records:
            return BatchResult(0, 0, 0, {})
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.store.transaction() as tx:
                    return await self._apply(tx, records, accept_gaps, dead_letter)
            except TransactionConflict:
                if attempt == ATTEMPTS:
                    raise
                log.warning("batch transaction conflicted; retrying", exc_info=True)
        raise AssertionError("unreachable")

    async def _apply(
        self,
        tx: FoldTransaction,
        records: Sequence[Record],
        accept_gaps: frozenset[int],
        dead_letter: DeadLetterer | None,
    ) -> BatchResult:
        topic = records[0][0].topic
        floors = await tx.claim_offsets(topic, partitions_of(records))
        batch = screen(records, floors, accept_gaps)
        recorded = await tx.record(batch.fresh) if batch.fresh else []
        states = await tx.states(recorded) if recorded else {}
        deltas, changed = self.deltas(states, recorded)
        await tx.add_deltas(deltas)
        await tx.bump_outbox(changed)
        if batch.next_offsets:
            await tx.store_offsets(topic, batch.next_offsets)
        if batch.dead and dead_letter is not None:
            await dead_letter(batch.dead)
        return batch.result(len(recorded))

    async def handle(self, records: Sequence[Any]) -> BatchResult:
        return (await self.commit(self.prepare(records)))[0]

    def deltas(
        self, states: dict[str, list[Act]], new: Sequence[Act]
    ) -> tuple[Deltas, set[Changed]]:
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
