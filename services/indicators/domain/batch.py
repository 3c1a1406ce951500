"""The exactly-once rules of one batch of records, apart from any database or broker.

A batch is a list of (position, act) in (partition, offset) order; act None is a record that
cannot be folded (it is dead-lettered, only its offset moves). The store keeps, per partition,
the next offset it has applied (the *floor*, -1 when it holds none) in the same transaction as
the totals. Given the floors, `screen` decides everything that makes a redelivery a no-op:

- a record below its partition's floor was applied already (by this process before a crash,
  or by another before a rebalance): skipped;
- a partition whose records start past its floor (the tables were rebuilt, another process
  stored less than this one read) would leave a hole: the whole partition is left out and
  reported as a *gap*, unless the consumer has accepted that gap (the records below are gone);
- an act repeated within the batch, by (source, id) or by natural key (type, subject), is a
  duplicate (a repeat of an act recorded earlier is found by the store's unique keys);
- each partition's next floor is one past its last record taken.

`GapPolicy` is the consumer's side of a gap: seek back to the floor and read again, and accept
the gap after it was met `patience` times at the same floor (the offsets below are deleted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from services.indicators.domain.acts import Act

NO_OFFSET = -1  # the floor of a partition the store holds nothing of


class Position(NamedTuple):
    """Where a record is: a tuple, built once per record and ordered as (topic, partition,
    offset)."""

    topic: str
    partition: int
    offset: int


Record = tuple[Position, Act | None]
Partition = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicates: int
    skipped: int
    gaps: dict[Partition, int]  # partition -> stored floor, when the batch starts past it
    dead: tuple[Position, ...] = ()  # records dead-lettered in this transaction


@dataclass(frozen=True)
class Screened:
    """What of a batch goes to the store, and what the store must remember of it."""

    fresh: list[Act]  # to record: neither applied already nor repeated within the batch
    duplicates: int  # repeated within the batch
    skipped: int  # below the floor, or in a gap
    gaps: dict[Partition, int]
    next_offsets: dict[int, int]  # partition -> its new floor
    dead: list[Position]  # records without an act that this batch consumes

    def result(self, recorded: int) -> BatchResult:
        """The batch's result once the store recorded `recorded` of the fresh acts (the
        others repeat acts recorded before)."""
        duplicates = self.duplicates + len(self.fresh) - recorded
        return BatchResult(recorded, duplicates, self.skipped, self.gaps, tuple(self.dead))


def partitions_of(records: Sequence[Record]) -> list[int]:
    return sorted({position.partition for position, _ in records})


def screen(
    records: Sequence[Record], floors: Mapping[int, int], accept_gaps: frozenset[int] = frozenset()
) -> Screened:
    """Apply the rules above to `records` (one topic) given the stored floors."""
    if not records:
        return Screened([], 0, 0, {}, {}, [])
    topic = records[0][0].topic
    first: dict[int, int] = {}
    for position, _ in records:
        first[position.partition] = min(
            first.get(position.partition, position.offset), position.offset
        )
    gaps = {
        (topic, p): floors[p]
        for p, start in first.items()
        if floors[p] > NO_OFFSET and start > floors[p] and p not in accept_gaps
    }
    skipped = duplicates = 0
    next_offsets: dict[int, int] = {}
    fresh: list[Act] = []
    dead: list[Position] = []
    ids: set[tuple[str, str]] = set()
    natural: set[tuple[str, str]] = set()
    for position, act in records:
        if position.offset < floors[position.partition] or (topic, position.partition) in gaps:
            skipped += 1
            continue
        next_offsets[position.partition] = max(
            next_offsets.get(position.partition, 0), position.offset + 1
        )
        if act is None:
            dead.append(position)
            continue
        ident = (act.source, act.id)
        nkey = (act.type, act.subject) if act.subject is not None else None
        if ident in ids or (nkey is not None and nkey in natural):
            duplicates += 1
            continue
        ids.add(ident)
        if nkey is not None:
            natural.add(nkey)
        fresh.append(act)
    return Screened(fresh, duplicates, skipped, gaps, next_offsets, dead)


def merged(results: Sequence[BatchResult]) -> BatchResult:
    """One result of a batch applied in parts (a record isolated into a transaction alone)."""
    if len(results) == 1:
        return results[0]
    gaps: dict[Partition, int] = {}
    for result in results:
        gaps.update(result.gaps)
    return BatchResult(
        sum(r.applied for r in results),
        sum(r.duplicates for r in results),
        sum(r.skipped for r in results),
        gaps,
        tuple(position for r in results for position in r.dead),
    )


@dataclass
class GapPolicy:
    """Where the consumer goes after a batch: back to each gap's floor; past a gap met
    `patience` times in a row at the same floor (its records were deleted by retention)."""

    patience: int = 5
    accepted: set[int] = field(default_factory=set)
    met: Counter[tuple[str, int, int]] = field(default_factory=Counter)

    def after(self, result: BatchResult) -> list[tuple[Partition, int, bool]]:
        """Each gap of `result` as (partition, floor to seek to, accepted now)."""
        if not result.gaps:
            self.met.clear()
            self.accepted.clear()
        seeks = []
        for (topic, partition), floor in result.gaps.items():
            key = (topic, partition, floor)
            self.met[key] += 1
            accepted = self.met[key] >= self.patience and partition not in self.accepted
            if self.met[key] >= self.patience:
                self.accepted.add(partition)
            seeks.append(((topic, partition), floor, accepted))
        return seeks
