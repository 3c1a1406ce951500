"""Benchmark: the ingest service over HTTP, publishing to a Kafka broker on the same machine.

Starts a private stack under .iprwatch/bench/ingest (Kafka, with the PostgreSQL and mail sink
that `up_infra` brings), then the ingest service as its own process (uvicorn, as in
production). Measures:

- batched throughput: `--batches` requests of 1,000 events each (every event type, 38
  districts), `--concurrency` requests in flight, bodies made before the clock starts;
- single-event latency at a fixed request rate (`--rate` requests/s for `--seconds`), open loop:
  each latency runs from the request's scheduled time, so a stall counts for every request it
  delays;
- the service's peak RSS (with `--workers` N > 1: the supervisor's and its children's, summed).

Prints one JSON object.

    .venv/bin/python bench/ingest.py [--batches 300] [--concurrency 4] [--rate 300] [--seconds 20]
                                     [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPIC = "bench.ingest.events"
WARM_UP_CONNECTIONS = 32


def _events(start: int, count: int, codes: list[str]) -> list[dict[str, Any]]:
    from shared.events import EXAMPLES

    templates = list(EXAMPLES.values())
    events = []
    for n in range(start, start + count):
        template = templates[n % len(templates)]
        data = {**template["data"], "district": codes[n % len(codes)]}
        if "from_district" in data:
            data["from_district"] = codes[(n + 1) % len(codes)]
        event = {**template, "id": f"bench-{n}", "data": data}
        if "subject" in event:
            event["subject"] = f"S{n}"
        events.append(event)
    return events


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """A minimal keep-alive HTTP/1.1 client: the benchmark should spend its CPU on the server,
    not on a client library (the machine has two cores for client, service and broker)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        reused = self.writer is not None
        try:
            return await self._post(path, body, headers)
        except (ConnectionError, IndexError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self.writer = None  # the server closed an idle keep-alive connection: reconnect
            return await self._post(path, body, headers)

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None  # noqa: S101 - set together with the writer
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def _throughput(host: str, port: int, auth: dict[str, str], bodies: list[bytes],
                      concurrency: int, per_batch: int) -> dict[str, Any]:  # fmt: skip
    headers = {**auth, "Content-Type": "application/cloudevents-batch+json"}
    queue = list(reversed(bodies))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connections = [Connection(host, port) for _ in range(concurrency)]
    await connections[0].post("/v1/events", bodies[0], headers)  # warm up

    async def worker(connection: Connection) -> None:
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            status = await connection.post("/v1/events", body, headers)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    accepted = statuses.get(202, 0) * per_batch
    return {
        "events": accepted, "batches": len(bodies), "batch_size": per_batch,
        "concurrency": concurrency, "seconds": round(elapsed, 3),
        "events_per_second": round(accepted / elapsed),
        "request_p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "request_p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "statuses": statuses,
    }  # fmt: skip


async def _latency(host: str, port: int, auth: dict[str, str], bodies: list[bytes],
                   rate: float) -> dict[str, Any]:  # fmt: skip
    """Open loop: requests start on schedule, each on a free keep-alive connection."""
    headers = {**auth, "Content-Type": "application/cloudevents+json"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    idle = [Connection(host, port) for _ in range(WARM_UP_CONNECTIONS)]
    for connection in idle:
        await connection.post("/v1/events", bodies[0], headers)

    async def one(body: bytes, scheduled: float) -> None:
        connection = idle.pop() if idle else Connection(host, port)
        status = await connection.post("/v1/events", body, headers)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        idle.append(connection)

    tasks = []
    start = time.perf_counter() + 0.1
    for i, body in enumerate(bodies):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {
        "requests": len(bodies), "target_rate": rate,
        "achieved_rate": round(len(bodies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "p90_ms": round(_percentile(latencies, 0.9) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "statuses": statuses,
    }  # fmt: skip


async def _records_in_topic(bootstrap: str, topic: str) -> int:
    """How many records the topic holds: the sum of its partitions' end offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _peak_rss_tree_mib(pid: int) -> float | None:
    """The peak RSS of a process and of its children (uvicorn's workers), summed."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    peaks = [_peak_rss_mib(p) for p in (pid, *map(int, children))]
    known = [p for p in peaks if p is not None]
    return round(sum(known), 1) if known else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="ingest worker processes")
    parser.add_argument("--keep", action="store_true", help="leave the private stack running")
    args = parser.parse_args()

    from iprwatch.stack.home import REPO_ROOT, StackHome
    from iprwatch.stack.processes import LOOPBACK, free_port, stop
    from iprwatch.stack.stack import Stack, launch_service, service_marker, wait_ready
    from services.ingest.adapters.tokens import TokenStore
    from shared.plan import default_plan_path, load_plan

    home = StackHome(REPO_ROOT / ".iprwatch" / "bench" / "ingest")
    stack = Stack(home, say=lambda m: print(f"[stack] {m}", file=sys.stderr),
                  well_known_ports=False)  # fmt: skip
    endpoints = stack.up_infra()
    tokens_file = home.root / "bench-tokens.json"
    tokens_file.unlink(missing_ok=True)
    token = TokenStore(tokens_file).add("bench", ["*"], ["*"])
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    topic = f"{TOPIC}.{int(time.time())}"
    env = {**os.environ, **endpoints.service_env(), "IPRWATCH_INGEST_PORT": str(port),
           "IPRWATCH_INGEST_TOKENS_FILE": str(tokens_file),
           "IPRWATCH_KAFKA_EVENTS_TOPIC": topic,
           "IPRWATCH_KAFKA_PARTITIONS": str(args.partitions),
           "IPRWATCH_INGEST_LOG_LEVEL": "WARNING",
           "IPRWATCH_INGEST_WORKERS": str(args.workers)}  # fmt: skip
    log = home.logs / "ingest-bench.log"
    url = f"http://{LOOPBACK}:{port}"
    pid = launch_service("ingest", env, log)
    try:
        wait_ready(url, pid, "ingest", log)
        codes = sorted(load_plan(default_plan_path()).district_codes)
        n = args.batch_size
        bodies = [json.dumps(_events(b * n, n, codes)).encode() for b in range(args.batches)]
        singles = [json.dumps(e).encode()
                   for e in _events(10_000_000, int(args.rate * args.seconds), codes)]  # fmt: skip
        load_before = os.getloadavg()[0]
        batched = asyncio.run(_throughput(LOOPBACK, port, auth, bodies, args.concurrency, n))
        single = asyncio.run(_latency(LOOPBACK, port, auth, singles, args.rate))
        peak_rss = _peak_rss_tree_mib(pid)
        result = {
            "benchmark": "ingest",
            "machine": {"cpus": os.cpu_count(), "broker": "Kafka 4.1 KRaft, same machine",
                        "partitions": args.partitions, "ingest_workers": args.workers,
                        "load_average_1m": [round(load_before, 2),
                                            round(os.getloadavg()[0], 2)]},
            "batched": batched,
            "single_event_latency": single,
            "ingest_peak_rss_mib": peak_rss,
            # every acknowledged event, with the warm-up requests (one batch, 32 single events)
            "records_in_topic": asyncio.run(_records_in_topic(endpoints.kafka_bootstrap, topic)),
            "records_acknowledged": batched["events"] + n + WARM_UP_CONNECTIONS
            + single["statuses"].get(202, 0),
            "targets": {
                "batched_events_per_second": 60_000,
                "single_p99_ms_at_300_rps": 25,
                "batched_met": batched["events_per_second"] >= 60_000,
                "latency_met": single["p99_ms"] < 25 and args.rate >= 300,
            },
        }  # fmt: skip
        print(json.dumps(result, indent=2))
    finally:
        stop(pid, service_marker("ingest"), timeout=20)
        if not args.keep:
            stack.down()


if __name__ == "__main__":
    main()
