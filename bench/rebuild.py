"""Benchmark: rebuild the indicators' tables from 10,000,000 events (replay into shadow tables,
then the swap).

Starts a private Kafka + PostgreSQL under .iprwatch/bench/rebuild, produces the events in
chunks of 50,000 (a mix of every event type with duplicates, shuffled; never the whole stream
in memory), then runs the product's rebuild (`services.indicators.bootstrap.rebuild.rebuild`:
every partition from the earliest offset with the live fold's handler into
`<schema>_rebuild`, then `swap_in`) in a child process, so that its peak RSS is its own.
Afterwards it compares the rebuilt monthly totals and the number of acts with the stream's
truth, computed while producing: the counted indicators are the sum of each chunk's
`totals()`; a (district, year) revenue is its latest report over all chunks (by time, then
id, as the fold decides), kept from the records as they are sent. Prints one JSON object;
progress goes to stderr.

    .venv/bin/python bench/rebuild.py [--events 10000000] [--partitions 6] [--keep]

With --keep the stack stays up for inspection (its endpoints are printed on stderr); stop it
with `IPRWATCH_HOME=.iprwatch/bench/rebuild .venv/bin/iprwatch stack down` (the next run
also removes it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOME = ROOT / ".iprwatch" / "bench" / "rebuild"
TOPIC = "bench.rebuild.events"
SCHEMA = "bench_rebuild"
CHUNK = 50_000
REVENUE_TYPE = b"cn.ipr.service.revenue.reported"
REVENUE = "ip_service_revenue_cny"
EVERY = 5.0  # seconds between progress lines

Key = tuple[str, str, date]


def say(line: str) -> None:
    sys.stderr.write(f"[bench/rebuild {time.strftime('%H:%M:%S')}] {line}\n")
    sys.stderr.flush()


@dataclass
class Truth:
    """What the rebuilt tables must hold, gathered chunk by chunk."""

    counted: dict[Key, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # (district, year) -> (time, id, amount) of the latest report seen
    revenue: dict[tuple[str, int], tuple[datetime, str, Decimal]] = field(default_factory=dict)
    acts: int = 0

    def add_chunk(self, totals: dict[Key, Decimal], unique_acts: int) -> None:
        for key, amount in totals.items():
            if key[1] != REVENUE:
                self.counted[key] += amount
        self.acts += unique_acts

    def see(self, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        """Keep a revenue report if it is the latest of its (district, year) so far."""
        named = dict(headers)
        if named.get("ce_type") != REVENUE_TYPE:
            return
        data = json.loads(value)
        report = (
            datetime.fromisoformat(named["ce_time"].decode()),
            named["ce_id"].decode(),
            Decimal(repr(data["amount_cny"])),
        )
        where = (str(data["district"]), int(data["year"]))
        if where not in self.revenue or report[:2] > self.revenue[where][:2]:
            self.revenue[where] = report

    def totals(self) -> dict[Key, Decimal]:
        out = {k: v for k, v in self.counted.items() if v != 0}
        for (district, year), (_, _, amount) in self.revenue.items():
            if amount != 0:
                out[(district, REVENUE, date(year, 12, 1))] = amount
        return out


async def _produce(
    bootstrap: str, topic: str, events: int, partitions: int, truth: Truth
) -> dict[str, float]:
    from aiokafka import AIOKafkaProducer

    from shared.kafka import ensure_topics
    from shared.settings import KafkaSettings
    from tests.integration.indicators.stream import generate

    kafka = KafkaSettings(bootstrap_servers=bootstrap, events_topic=topic, partitions=partitions)
    await ensure_topics(kafka, [topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=50,
        max_batch_size=512 * 1024, compression_type=None,
    )  # fmt: skip
    await producer.start()
    started = time.perf_counter()
    shown = started
    sent = 0
    try:
        seed = 0
        # Each chunk is sent whole (a cut chunk would lose the truth of its totals): the last
        # one asks only for what is missing, so the stream overshoots `events` by a handful.
        while sent < events:
            seed += 1
            stream = generate(min(CHUNK, events - sent), seed=seed)
            futures = []
            for key, value, headers in stream.records:
                truth.see(value, headers)
                futures.append(await producer.send(topic, value, key=key, headers=headers))
            await asyncio.gather(*futures)
            truth.add_chunk(stream.totals(), stream.unique_acts)
            sent += len(stream.records)
            now = time.perf_counter()
            if now - shown >= EVERY or sent >= events:
                shown = now
                rate = sent / (now - started)
                say(f"produced {sent:,}/{events:,} events ({rate:,.0f}/s)")
    finally:
        await producer.stop()
    return {"produced": sent, "chunks": seed, "produce_seconds": time.perf_counter() - started}


async def _rebuild(bootstrap: str, dsn: str, topic: str, partitions: int) -> dict[str, Any]:
    """In the child: the product's rebuild, timed; its progress as lines on stderr."""
    from pydantic import SecretStr

    from services.indicators.bootstrap.rebuild import rebuild
    from services.indicators.settings import IndicatorsSettings
    from shared.settings import KafkaSettings, PostgresSettings

    settings = IndicatorsSettings(
        db_schema=SCHEMA,
        kafka=KafkaSettings(bootstrap_servers=bootstrap, events_topic=topic, partitions=partitions),
        postgres=PostgresSettings(dsn=SecretStr(dsn)),
    )
    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault("offsets_taken", now)
        if done >= total:
            marks.setdefault("replayed", now)
        if now - marks.get("shown", 0.0) >= EVERY or done >= total:
            marks["shown"] = now
            rate = done / max(now - marks["offsets_taken"], 1e-9)
            say(f"rebuilt {done:,}/{total:,} records ({rate:,.0f}/s)")

    started = time.perf_counter()
    result = await rebuild(settings, progress)
    ended = time.perf_counter()
    replayed = marks.get("replayed", ended)
    offsets_taken = marks.get("offsets_taken", started)
    return {
        "records": result.records,
        "acts": result.acts,
        "seconds": ended - started,
        "replay_seconds": replayed - offsets_taken,
        "after_replay_seconds": ended - replayed,
        "retired_schema": result.retired_schema,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--bootstrap", args.bootstrap]
    command += ["--dsn", args.dsn, "--topic", args.topic, "--partitions", str(args.partitions)]
    # stderr is the terminal's: the child's progress lines show as they come
    done = subprocess.run(  # noqa: S603
        command, stdout=subprocess.PIPE, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"the rebuild child failed (exit {done.returncode}); see above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _rebuilt_totals(dsn: str) -> dict[Key, Decimal]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f"SELECT district, indicator, month, amount FROM {SCHEMA}.monthly_deltas"  # noqa: S608
            " WHERE amount <> 0"
        )
    finally:
        await conn.close()
    return {(r["district"], r["indicator"], r["month"]): r["amount"] for r in rows}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="leave the stack up for inspection")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", default="", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", default="", help=argparse.SUPPRESS)
    parser.add_argument("--topic", default=TOPIC, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.basicConfig(level=logging.WARNING)
        measured = _rebuild(args.bootstrap, args.dsn, args.topic, args.partitions)
        print(json.dumps(uvloop.run(measured)))  # as `iprwatch indicators rebuild` runs
        return

    from iprwatch.stack.home import StackHome
    from iprwatch.stack.stack import Stack

    load_at_start = _load()
    home = StackHome(HOME)
    stack = Stack(home, say=lambda _: None, well_known_ports=False)
    if home.root.exists():  # what a kept or broken earlier run left; then a fresh stack
        stack.down()
        shutil.rmtree(home.root, ignore_errors=True)
    say(f"starting Kafka and PostgreSQL under {home.root.relative_to(ROOT)}")
    endpoints = stack.up_infra()
    truth = Truth()
    try:
        args.bootstrap, args.dsn = endpoints.kafka_bootstrap, endpoints.postgres_dsn
        produced = asyncio.run(
            _produce(args.bootstrap, args.topic, args.events, args.partitions, truth)
        )
        load_before = _load()
        rebuilt = _child(args)
        load_after = _load()
        folded = asyncio.run(_rebuilt_totals(args.dsn))
    finally:
        if args.keep:
            say(f"stack kept: Kafka {endpoints.kafka_bootstrap}, {endpoints.postgres_dsn}")
            say(f"schema {SCHEMA}; stop: IPRWATCH_HOME={home.root} .venv/bin/iprwatch stack down")
        else:
            stack.down()
            shutil.rmtree(home.root, ignore_errors=True)
    expected = truth.totals()
    differing = {k for k in expected.keys() | folded.keys() if expected.get(k) != folded.get(k)}
    print(json.dumps({
        "events": produced["produced"],
        "partitions": args.partitions,
        "produce_seconds": round(produced["produce_seconds"], 1),
        "produce_events_per_second": round(produced["produced"] / produced["produce_seconds"]),
        "rebuild_records": rebuilt["records"],
        "rebuild_seconds": round(rebuilt["seconds"], 2),
        "rebuild_events_per_second": round(rebuilt["records"] / rebuilt["seconds"]),
        "replay_seconds": round(rebuilt["replay_seconds"], 2),
        "replay_events_per_second": round(
            rebuilt["records"] / max(rebuilt["replay_seconds"], 1e-9)
        ),
        "after_replay_seconds": round(rebuilt["after_replay_seconds"], 2),
        "acts_recorded": rebuilt["acts"],
        "acts_expected": truth.acts,
        "rebuild_peak_rss_mb": round(rebuilt["peak_rss_mb"], 1),
        "totals_equal_truth": not differing and rebuilt["acts"] == truth.acts,
        "keys_compared": len(expected),
        "keys_differing": len(differing),
        "load_average": {"start": load_at_start, "before_rebuild": load_before,
                         "after_rebuild": load_after},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
