"""A batch joined with what was fetched while the previous one committed: a partition's records
stay without a hole, whatever seek came in between."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from services.indicators.domain.batch import screen
from services.indicators.service.folding import FoldHandler, Prepared
from shared.plans import load_plans
from tests.integration.indicators.stream import record
from tests.unit.indicators.fakes import MemoryStore

WHEN = datetime.fromisoformat("2024-03-05T10:00:00+08:00")


class Fetched(NamedTuple):
    """What aiokafka's ConsumerRecord gives the fold."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


def fetched(partition: int, offsets: range, poison: int | None = None) -> list[Any]:
    found = []
    for offset in offsets:
        n = f"{partition}-{offset}"
        _, value, headers = record(n, "patent.invention.granted", f"ZL{n}", WHEN,
                                   {"district": "500112"})  # fmt: skip
        found.append(Fetched("events", partition, offset,
                             b"{" if offset == poison else value, headers))  # fmt: skip
    return found


def prepare(records: list[Any]) -> Prepared:
    handler = FoldHandler(load_plans(), MemoryStore(), dead_letters=None)  # type: ignore[arg-type]
    return handler.prepare(records)


def offsets(batch: Prepared) -> list[tuple[int, int]]:
    return [(p.partition, p.offset) for p, _ in batch.records]


def test_records_that_follow_join_the_batch_and_new_partitions_too() -> None:
    first = prepare(fetched(0, range(10, 13)))
    later = prepare(fetched(0, range(13, 15), poison=14) + fetched(1, range(0, 2)))
    joined = first.joined(later)
    assert offsets(joined) == [(0, 10), (0, 11), (0, 12), (0, 13), (0, 14), (1, 0), (1, 1)]
    assert [r.offset for r, _ in joined.dead] == [14]
    assert set(joined.originals) == {("events", p, o) for p, o in offsets(joined)}
    assert len(joined) == 7


def test_records_read_again_after_a_seek_back_are_left_out_and_the_gap_is_still_seen() -> None:
    first = prepare(fetched(0, range(100, 110)))
    # a gap sent partition 0 back to its floor, 50: what came back lies below this batch's end
    later = prepare(fetched(0, range(50, 60), poison=55) + fetched(2, range(7, 9)))
    joined = first.joined(later)
    assert offsets(joined) == [(0, o) for o in range(100, 110)] + [(2, 7), (2, 8)]
    assert joined.dead == []  # the poison at 55 is read again from the floor, not here
    # the batch still starts past the floor: partition 0 is left out whole and read again
    screened = screen(joined.records, {0: 50, 2: 7})
    assert screened.gaps == {("events", 0): 50}
    assert screened.next_offsets == {2: 9}


def test_a_rebalance_that_seeks_to_this_batch_start_does_not_count_it_twice() -> None:
    first = prepare(fetched(3, range(20, 25)))
    later = prepare(fetched(3, range(20, 28)))  # sought to the stored floor, 20, and read again
    joined = first.joined(later)
    assert offsets(joined) == [(3, o) for o in range(20, 28)]
    screened = screen(joined.records, {3: 20})
    assert (len(screened.fresh), screened.duplicates, screened.next_offsets) == (8, 0, {3: 28})


def test_nothing_new_leaves_the_batch_as_it_was() -> None:
    first = prepare(fetched(0, range(5, 8)))
    assert first.joined(prepare(fetched(0, range(5, 8)))) is first
