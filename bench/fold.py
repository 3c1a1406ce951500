"""Benchmark: fold 1,000,000 events from Kafka into PostgreSQL; compare with a plain consumer.

Starts a private Kafka + PostgreSQL under .iprwatch/bench/fold, produces the events (a mix of
every event type with duplicates, shuffled), then in child processes (so that each one's peak
RSS is its own): a plain aiokafka consumer reading the whole topic (the ceiling), and the
indicators service's fold (consumer, parsing, one transaction per batch, outbox relay and
snapshot refresher running) until the offsets stored in PostgreSQL reach the end of the topic.
Prints one JSON object.

    .venv/bin/python bench/fold.py [--events 1000000] [--partitions 6] [--processes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPIC = "bench.events"  # + a suffix per run: each run folds its own fresh topic


async def _produce(bootstrap: str, topic: str, events: int, partitions: int) -> dict[str, float]:
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
    sent = 0
    try:
        seed = 0
        while sent < events:
            seed += 1
            chunk = generate(min(50_000, events - sent), seed=seed).records[: events - sent]
            futures = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value, headers in chunk
            ]
            await asyncio.gather(*futures)
            sent += len(chunk)
    finally:
        await producer.stop()
    return {"produced": sent, "produce_seconds": time.perf_counter() - started}


async def _plain(bootstrap: str, topic: str, events: int) -> dict[str, float]:
    """The ceiling: read every record with a plain consumer, touching key, value and headers."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
        group_id=f"plain-{os.getpid()}", max_poll_records=10_000,
    )  # fmt: skip
    await consumer.start()
    seen = 0
    touched = 0
    started = time.perf_counter()
    try:
        while seen < events:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if seen == 0 and batches:
                started = time.perf_counter()
            for records in batches.values():
                for record in records:
                    touched += len(record.value) + len(record.headers)
                seen += len(records)
            if seen == 0:
                started = time.perf_counter()
    finally:
        await consumer.stop()
    elapsed = time.perf_counter() - started
    return {"events": seen, "seconds": elapsed, "events_per_second": seen / elapsed}


async def _fold(
    bootstrap: str, dsn: str, topic: str, events: int, batch: int, run: str
) -> dict[str, float]:
    """One fold process (of `--processes`, all in one consumer group and one schema): folds
    until the offsets stored in the schema cover every event of the topic."""
    from pydantic import SecretStr

    from services.indicators.bootstrap import running
    from services.indicators.metrics import IndicatorsMetrics
    from services.indicators.settings import IndicatorsSettings
    from shared.settings import KafkaSettings, PostgresSettings

    settings = IndicatorsSettings(
        db_schema=f"bench_{run}",
        consumer_group=f"fold-{run}",
        batch_max_records=batch,
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap,
            events_topic=topic,
            indicators_topic=f"bench.indicators.{run}",
            dead_letter_topic=f"bench.dlq.{run}",
        ),
        postgres=PostgresSettings(dsn=SecretStr(dsn)),
    )
    metrics = IndicatorsMetrics()
    async with running(settings, metrics) as app:
        started = None
        durations = []
        while True:
            folded = sum(
                metrics.events_folded.labels(o)._value.get() for o in ("applied", "duplicate")
            )
            if started is None and folded > 0:
                started = time.time() - 0.05
            stored = await app.pool.fetchval(
                "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets"
                " WHERE topic = $1 AND next_offset > 0",
                topic,
            )
            if stored >= events:
                break
            await asyncio.sleep(0.05)
        ended = time.time()
        elapsed = ended - (started or ended)
        acts = await app.pool.fetchval("SELECT count(*) FROM acts")
        for sample in list(metrics.batch_seconds.collect())[0].samples:
            if sample.name.endswith("_sum") or sample.name.endswith("_count"):
                durations.append(sample.value)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "events": folded, "acts": acts,
        "applied": metrics.events_folded.labels("applied")._value.get(),
        "duplicates": metrics.events_folded.labels("duplicate")._value.get(),
 "seconds": elapsed, "events_per_second": folded / elapsed,
        "mean_batch_seconds": durations[1] / durations[0] if durations and durations[0] else 0,
        "batches": durations[0] if durations else 0,
        "peak_rss_mb": peak, "started": started or ended, "ended": ended,
    }  # fmt: skip


def _command(mode: str, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, __file__, "--child", mode, "--events", str(args.events)]
    command += ["--bootstrap", args.bootstrap, "--dsn", args.dsn, "--batch", str(args.batch)]
    return [*command, "--topic", args.topic, "--run", args.run]


def _result(mode: str, done: subprocess.CompletedProcess[str]) -> dict[str, float]:
    if done.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{done.stderr[-3000:]}")
    sys.stderr.write(done.stderr[-2000:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(mode: str, args: argparse.Namespace) -> dict[str, float]:
    done = subprocess.run(_command(mode, args), capture_output=True, text=True, check=False,  # noqa: S603
                          cwd=ROOT)  # fmt: skip
    return _result(mode, done)


def _folds(args: argparse.Namespace) -> dict[str, float]:
    """`--processes` fold processes at once; their figures summed (RSS: the largest one's)."""
    children = [
        subprocess.Popen(  # noqa: S603 - this script, run again as a child
            _command("fold", args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )  # fmt: skip
        for _ in range(args.processes)
    ]
    results = []
    for child in children:
        out, err = child.communicate()
        results.append(_result("fold", subprocess.CompletedProcess(child.args, child.returncode,
                                                                   out, err)))  # fmt: skip
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    batches = sum(r["batches"] for r in results)
    return {
        "events": sum(r["events"] for r in results), "acts": results[0]["acts"],
        "applied": sum(r["applied"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "seconds": seconds, "events_per_second": args.events / seconds,
        "mean_batch_seconds": sum(r["mean_batch_seconds"] * r["batches"] for r in results)
        / max(batches, 1) / len(results),
        "batches": batches, "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--child", choices=["plain", "fold"])
    parser.add_argument("--bootstrap", default="")
    parser.add_argument("--dsn", default="")
    parser.add_argument("--topic", default=f"{TOPIC}.{int(time.time())}")
    parser.add_argument("--processes", type=int, default=1, help="fold processes in one group")
    parser.add_argument("--run", default=str(os.getpid()))
    args = parser.parse_args()
    if args.child == "plain":  # on uvloop, as the services run under uvicorn
        print(json.dumps(uvloop.run(_plain(args.bootstrap, args.topic, args.events))))
        return
    if args.child == "fold":
        import logging

        logging.basicConfig(level=logging.WARNING)
        folded = _fold(args.bootstrap, args.dsn, args.topic, args.events, args.batch, args.run)
        print(json.dumps(uvloop.run(folded)))
        return

    from iprwatch.stack.home import StackHome
    from iprwatch.stack.stack import Stack
    from services.indicators.settings import IndicatorsSettings

    home = StackHome(ROOT / ".iprwatch" / "bench" / "fold")
    stack = Stack(home, say=lambda _: None, well_known_ports=False)
    if home.root.exists():  # what a broken earlier run left; then a fresh broker and database
        stack.down()
        shutil.rmtree(home.root, ignore_errors=True)
    endpoints = stack.up_infra()
    try:
        args.bootstrap, args.dsn = endpoints.kafka_bootstrap, endpoints.postgres_dsn
        produced = asyncio.run(_produce(args.bootstrap, args.topic, args.events, args.partitions))
        plain = _child("plain", args)
        fold = _folds(args)
    finally:
        stack.down()
        shutil.rmtree(home.root, ignore_errors=True)
    print(json.dumps({
        "events": args.events,
        "partitions": args.partitions,
        "batch_max_records": args.batch,
        "fold_processes": args.processes,
        # each process's lanes (transactions in flight), as the service reads its setting
        "fold_lanes": IndicatorsSettings().fold_lanes,
        "fold_events_per_second": round(fold["events_per_second"]),
        "plain_consumer_events_per_second": round(plain["events_per_second"]),
        "ratio": round(fold["events_per_second"] / plain["events_per_second"], 3),
        "fold_seconds": round(fold["seconds"], 2),
        "plain_seconds": round(plain["seconds"], 2),
        "mean_batch_seconds": round(fold["mean_batch_seconds"], 4),
        "batches": fold["batches"],
        "batch_seconds_share": round(
            fold["mean_batch_seconds"] * fold["batches"] / fold["seconds"], 3
        ),
        "fold_peak_rss_mb": round(fold["peak_rss_mb"], 1),
        "acts_recorded": fold["acts"],
        "applied": fold["applied"],
        "duplicates": fold["duplicates"],
        "produce_seconds": round(produced["produce_seconds"], 1),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
