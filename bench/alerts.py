"""Benchmark: the alerts service consuming indicator changes, and composing alert mails.

Starts a private Kafka + PostgreSQL + mail sink under .iprwatch/bench/alerts, produces
`--changes` indicator-changed messages (every district and indicator of the bundled plan, each
with a 48-month series, seq rising), then runs the alerts service in-process until every
message is stored and evaluated. Separately times composing one mail (text, HTML, PNG chart).
Prints one JSON object.

    .venv/bin/python bench/alerts.py [--changes 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def _run(changes: int, endpoints: object) -> dict[str, object]:
    from pydantic import SecretStr

    from services.alerts.bootstrap import running
    from services.alerts.metrics import AlertMetrics
    from services.alerts.settings import AlertsSettings
    from shared.indicator_events import IndicatorChanged, SeriesPoint, to_kafka
    from shared.kafka import ensure_topics, reliable_producer
    from shared.plan import default_plan_path, load_plan
    from shared.settings import KafkaSettings, PostgresSettings, SmtpSettings

    env = endpoints.service_env()  # type: ignore[attr-defined]
    stamp = str(int(time.time()))
    kafka = KafkaSettings(bootstrap_servers=env["IPRWATCH_KAFKA_BOOTSTRAP_SERVERS"],
                          indicators_topic=f"bench.indicators.{stamp}")  # fmt: skip
    plan = load_plan(default_plan_path())
    keys = [(d.code, i.key) for d in plan.districts for i in plan.indicators]
    keys += [(plan.city.code, i.key) for i in plan.indicators]
    months = [f"{2021 + n // 12}-{n % 12 + 1:02d}" for n in range(48)]
    await ensure_topics(kafka, [kafka.indicators_topic])
    producer = reliable_producer(kafka, "bench-alerts")
    await producer.start()
    started = time.perf_counter()
    for n in range(changes):
        district, indicator = keys[n % len(keys)]
        seq = n // len(keys) + 1
        series = tuple(SeriesPoint(month=m, value=float(i * seq % 7)) for i, m in enumerate(months))
        event = IndicatorChanged(
            plan="chongqing-14th-fyp", district=district, indicator=indicator, month=months[-1],
            value=series[-1].value, month_value=series[-1].value, seq=seq, series=series,
        )  # fmt: skip
        key, value, headers = to_kafka(event)
        await producer.send(kafka.indicators_topic, value, key=key, headers=headers)
    await producer.flush()
    await producer.stop()
    produced_s = time.perf_counter() - started
    folder = Path(tempfile.mkdtemp())
    recipients = folder / "r.yaml"
    recipients.write_text('city: [{email: city@chongqing.example}]\n'
                          'districts: {"500111": [{email: ipr@dazu.example}]}\n')  # fmt: skip
    settings = AlertsSettings(
        db_schema=f"bench_alerts_{stamp}", consumer_group=f"bench-{stamp}",
        recipients_file=recipients, admin_token=SecretStr("x"), now="2024-06-30",
        for_seconds=0, group_wait_seconds=0, evaluation_interval_seconds=3600, kafka=kafka,
        postgres=PostgresSettings(dsn=SecretStr(env["IPRWATCH_PG_DSN"])),
        smtp=SmtpSettings(host=env["IPRWATCH_SMTP_HOST"], port=int(env["IPRWATCH_SMTP_PORT"])),
    )  # fmt: skip
    metrics = AlertMetrics()
    started = time.perf_counter()
    async with running(settings, metrics):
        while True:
            done = sum(metrics.changes.labels(o)._value.get() for o in ("applied", "stale"))
            if done >= changes:
                break
            await asyncio.sleep(0.05)
        consumed_s = time.perf_counter() - started
    return {"changes": changes, "keys": len(keys), "produce_seconds": round(produced_s, 2),
            "consume_seconds": round(consumed_s, 2),
            "changes_per_second": round(changes / consumed_s, 1)}  # fmt: skip


def _compose_timings(rounds: int) -> dict[str, float]:
    from services.alerts.domain.assessment import assess
    from services.alerts.domain.mail import compose
    from services.alerts.domain.notices import Item
    from services.alerts.domain.snapshots import snapshot_of
    from shared.plan import default_plan_path, load_plan

    plan = load_plan(default_plan_path())
    points = [(f"{2021 + n // 12}-{n % 12 + 1:02d}", float(n // 10)) for n in range(42)]
    now = datetime(2024, 6, 30, tzinfo=UTC)
    a = assess(plan, "500111", "geographical_indications", points, date(2024, 6, 30))
    item = Item("500111", "geographical_indications", 1, "firing", 0,
                snapshot_of(a, plan, points, now), plan.id)  # fmt: skip
    took = []
    size = 0
    for _ in range(rounds):
        started = time.perf_counter()
        size = len(compose("ipr@dazu.example", [item], "a@iprwatch.example", now).as_bytes())
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return {
        "compose_p50_ms": round(statistics.median(took), 2),
        "compose_p99_ms": round(took[int(len(took) * 0.99) - 1], 2),
        "mail_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=20_000)
    args = parser.parse_args()
    from iprwatch.stack.home import StackHome
    from iprwatch.stack.stack import Stack

    stack = Stack(StackHome(ROOT / ".iprwatch" / "bench" / "alerts"), say=lambda _: None,
                  well_known_ports=False)  # fmt: skip
    endpoints = stack.up_infra()
    try:
        result = asyncio.run(_run(args.changes, endpoints))
    finally:
        stack.down()
    result |= _compose_timings(200)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
