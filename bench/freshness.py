"""Benchmark: freshness, from ingest's 202 to the value on `GET /v1/indicators`.

Starts a private stack under .iprwatch/bench/freshness (Kafka, PostgreSQL), then the ingest and
indicators services as their own processes (as in production), on a topic and a schema of
their own. While a background load of `--rate` events/s (batches of 100, every type, every
division but one) goes through ingest, a probe sends one software-copyright registration at a
time to the division left out and polls `GET /v1/indicators` (every 10 ms) until the division's
count shows it: the probe's freshness is the time from ingest's 202 to that answer. Probes go
one after the other for `--seconds`. Prints one JSON object (p50, p90, p99, max).

    .venv/bin/python bench/freshness.py [--rate 1000] [--seconds 60] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLAN = "chongqing-15th-fyp"  # in progress in 2026-2030: the probe's month is one of its months
PROBE_DISTRICT = "500243"  # 彭水: left out of the background load
PROBE_INDICATOR = "software_copyright_registrations_cumulative"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _batch_figures(exposition: str) -> dict[str, float]:
    """The fold's batches from its /metrics: how many, and their mean transaction time."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name.startswith("ipr_fold_batch") and sample.name.endswith(
                ("_sum", "_count")
            ):
                found[sample.name.rsplit("_", 1)[-1]] = sample.value
    count = found.get("count", 0.0)
    mean = found.get("sum", 0.0) / count if count else 0.0
    return {"fold_batches": count, "fold_mean_batch_seconds": round(mean, 4)}


def _background(start: int, count: int, codes: list[str]) -> list[dict[str, Any]]:
    from shared.events import EXAMPLES

    templates = list(EXAMPLES.values())
    now = datetime.now(SHANGHAI).isoformat(timespec="seconds")
    events = []
    for n in range(start, start + count):
        template = templates[n % len(templates)]
        data = {**template["data"], "district": codes[n % len(codes)]}
        if "from_district" in data:
            data["from_district"] = codes[(n + 1) % len(codes)]
        event = {**template, "id": f"load-{n}", "time": now, "data": data}
        if "subject" in event:
            event["subject"] = f"L{n}"
        events.append(event)
    return events


def _probe(n: int) -> dict[str, Any]:
    from shared.event_types import SOFTWARE
    from shared.events import EXAMPLES

    return {**EXAMPLES[SOFTWARE], "id": f"probe-{n}", "subject": f"2026SRPROBE{n:06d}",
            "time": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
            "data": {"district": PROBE_DISTRICT}}  # fmt: skip


async def _run(ingest: str, indicators: str, auth: dict[str, str], codes: list[str],
               rate: float, seconds: float, dsn: str, schema: str) -> dict[str, Any]:  # fmt: skip
    import asyncpg
    import httpx

    db = await asyncpg.connect(dsn)

    stop = asyncio.Event()
    sent = {"background": 0, "refused": 0}

    async with httpx.AsyncClient(timeout=10) as client:

        async def load() -> None:
            batch, n = 100, 0
            interval = batch / rate
            next_at = time.perf_counter()
            while not stop.is_set():
                answer = await client.post(f"{ingest}/v1/events", headers=auth,
                                           json=_background(n, batch, codes))  # fmt: skip
                sent["background" if answer.status_code == 202 else "refused"] += batch
                n += batch
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        async def value() -> float | None:
            asked = {"plan": PLAN, "district": PROBE_DISTRICT, "indicator": PROBE_INDICATOR}
            answer = await client.get(f"{indicators}/v1/indicators", params=asked)
            answer.raise_for_status()
            return answer.json()["items"][0]["value"]  # type: ignore[no-any-return]

        base = await value() or 0.0
        latencies: list[float] = []
        folded: list[float] = []  # 202 -> the act committed by the fold (a part of the above)
        background = asyncio.create_task(load())
        await asyncio.sleep(2)  # the load runs before the first probe
        ends = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < ends:
            n += 1
            answer = await client.post(f"{ingest}/v1/events", headers=auth, json=[_probe(n)])
            accepted = time.perf_counter()
            answer.raise_for_status()
            seen = None
            while (await value() or 0.0) < base + n:
                if seen is None and await db.fetchval(
                    f"SELECT 1 FROM {schema}.acts WHERE id = $1",  # noqa: S608 - our own schema name
                    f"probe-{n}",
                ):
                    seen = time.perf_counter() - accepted
                if time.perf_counter() - accepted > 30:
                    raise RuntimeError(f"probe {n} not visible after 30 s")
                await asyncio.sleep(0.01)
            latencies.append(time.perf_counter() - accepted)
            folded.append(latencies[-1] if seen is None else seen)
        stop.set()
        await background
        batches = _batch_figures((await client.get(f"{indicators}/metrics")).text)
    await db.close()
    return {
        "probes": len(latencies),
        "p50_seconds": round(_percentile(latencies, 0.5), 3),
        "p90_seconds": round(_percentile(latencies, 0.9), 3),
        "p99_seconds": round(_percentile(latencies, 0.99), 3),
        "max_seconds": round(max(latencies), 3),
        "folded_p50_seconds": round(_percentile(folded, 0.5), 3),
        "folded_p99_seconds": round(_percentile(folded, 0.99), 3),
        **batches,
        "background_events_accepted": sent["background"],
        "background_events_refused": sent["refused"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="background events/s")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long probes run")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="leave the private stack running")
    args = parser.parse_args()

    from iprwatch.stack.home import REPO_ROOT, StackHome
    from iprwatch.stack.processes import LOOPBACK, free_port, stop
    from iprwatch.stack.stack import Stack, launch_service, service_marker, wait_ready
    from services.ingest.adapters.tokens import TokenStore
    from shared.plans import load_plans

    home = StackHome(REPO_ROOT / ".iprwatch" / "bench" / "freshness")
    stack = Stack(home, say=lambda m: print(f"[stack] {m}", file=sys.stderr),
                  well_known_ports=False)  # fmt: skip
    endpoints = stack.up_infra()
    tokens_file = home.root / "bench-tokens.json"
    tokens_file.unlink(missing_ok=True)
    token = TokenStore(tokens_file).add("bench", ["*"], ["*"])
    run = f"fresh{int(time.time())}"
    ingest_port, indicators_port = free_port(), free_port()
    env = {**os.environ, **endpoints.service_env(),
           "IPRWATCH_INGEST_PORT": str(ingest_port),
           "IPRWATCH_INGEST_TOKENS_FILE": str(tokens_file),
           "IPRWATCH_INDICATORS_PORT": str(indicators_port),
           "IPRWATCH_INDICATORS_DB_SCHEMA": run,
           "IPRWATCH_INDICATORS_CONSUMER_GROUP": run,
           "IPRWATCH_KAFKA_EVENTS_TOPIC": f"{run}.events",
           "IPRWATCH_KAFKA_INDICATORS_TOPIC": f"{run}.indicators",
           "IPRWATCH_KAFKA_DEAD_LETTER_TOPIC": f"{run}.dlq",
           "IPRWATCH_KAFKA_PARTITIONS": str(args.partitions),
           "IPRWATCH_INGEST_LOG_LEVEL": "WARNING",
           "IPRWATCH_INDICATORS_LOG_LEVEL": "WARNING"}  # fmt: skip
    pids: dict[str, int] = {}
    try:
        for name, port in (("ingest", ingest_port), ("indicators", indicators_port)):
            log = home.logs / f"{name}-freshness.log"
            pids[name] = launch_service(name, env, log)
            wait_ready(f"http://{LOOPBACK}:{port}", pids[name], name, log)
        plan = next(p for p in load_plans() if p.id == PLAN)
        codes = sorted(c for c in plan.district_codes if c != PROBE_DISTRICT)
        load_before = os.getloadavg()
        measured = asyncio.run(
            _run(f"http://{LOOPBACK}:{ingest_port}", f"http://{LOOPBACK}:{indicators_port}",
                 {"Authorization": f"Bearer {token}"}, codes, args.rate, args.seconds,
                 endpoints.postgres_dsn, run)
        )  # fmt: skip
        result = {
            "benchmark": "freshness",
            "what": "ingest's 202 -> the value on GET /v1/indicators",
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                        "partitions": args.partitions,
                        "load_average": {"before": [round(x, 2) for x in load_before],
                                         "after": [round(x, 2) for x in os.getloadavg()]}},
            "background_rate_events_per_second": args.rate,
            **measured,
            "target": {"p99_seconds": 0.5, "met": measured["p99_seconds"] < 0.5},
        }  # fmt: skip
        print(json.dumps(result, indent=2))
    finally:
        for name, pid in pids.items():
            stop(pid, service_marker(name), timeout=20)
        if not args.keep:
            stack.down()


if __name__ == "__main__":
    main()
