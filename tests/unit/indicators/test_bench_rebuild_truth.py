"""The truth `bench/rebuild.py` checks a rebuild against, for a stream of several chunks, is
what the fold computes: counted indicators add up over the chunks, and a (district, year)
revenue is its latest report over all of them (the chunks report the same keys)."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

from services.indicators.domain.acts import parse_record
from services.indicators.domain.batch import Position
from services.indicators.service.folding import FoldHandler
from shared.plans import load_plans
from tests.integration.indicators.stream import generate
from tests.unit.indicators.fakes import MemoryStore

BENCH = Path(__file__).resolve().parents[3] / "bench" / "rebuild.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rebuild", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_truth_of_several_chunks_is_what_the_fold_computes() -> None:
    bench = _bench()
    truth = bench.Truth()
    records = []
    revenue_per_chunk = []
    for seed in range(1, 7):
        stream = generate(1500, seed)
        for _, value, headers in stream.records:
            truth.see(value, headers)
        truth.add_chunk(stream.totals(), stream.unique_acts)
        records += stream.records
        revenue_per_chunk.append({k for k in stream.totals() if k[1] == bench.REVENUE})
    random.Random(7).shuffle(records)
    acts = [parse_record(value, headers) for _, value, headers in records]
    store = MemoryStore()
    handler = FoldHandler(load_plans(), store, dead_letters=None)  # type: ignore[arg-type]

    async def fold() -> None:
        for start in range(0, len(acts), 500):
            batch = acts[start : start + 500]
            await handler.apply([(Position("e", 0, start + n), a) for n, a in enumerate(batch)])

    asyncio.run(fold())
    contested = set.intersection(*revenue_per_chunk[:2])
    assert contested  # chunks report the same (district, year): summing them would be wrong
    assert store.nonzero() == truth.totals()
    assert len(store.acts) == truth.acts
