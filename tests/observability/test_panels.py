"""Every panel of every dashboard, queried on a real Prometheus scraping the three services.

The services run on this test's topics and schema; events of many types and districts go in
through ingest (plus duplicates, refused events and one undecodable record straight on the
topic); a Prometheus from Debian's package scrapes them every second with the shipped rules.
Each panel's query (Grafana variables replaced by concrete values) must answer without error
and with at least one series. The result of every query is written to .iprwatch/panel-report.json.

The services follow the bundled plans, the 2026-2030 plan with test targets for Dazu and the
city (so that a plan in progress has paths, forecasts and a firing alert): Dazu is in the ended
14th plan and in the 2026-2030 plan, and the panels of each plan must show that plan's figures.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from iprwatch.stack import prometheus
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import LOOPBACK, free_port, stop
from shared.plans import BUNDLED_PLANS, PLANS_ENV
from shared.settings import KafkaSettings
from tests.observability.dashboards import (
    PanelQuery,
    load_dashboards,
    queries,
    substitute,
    variable_queries,
)
from tests.support.services import RunningServices

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPORT = REPO_ROOT / ".iprwatch" / "panel-report.json"
DISTRICT = "500111"  # Dazu: the one district with published targets
PLAN, ENDED = "chongqing-15th-fyp", "chongqing-14th-fyp"
VARIABLES = {
    "plan": PLAN,
    "district": DISTRICT,
    "indicator": "geographical_indications",
    "__rate_interval": "1m",
    "__interval": "1s",
    "__range": "5m",
}
DEADLINE_SECONDS = 45
METRIC = re.compile(r"\b(ipr_[a-z0-9_]+|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b")


@pytest.fixture
def alerts_fire_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan alerts fire on the first evaluation, evaluated every second (read at service start)."""
    monkeypatch.setenv("IPRWATCH_ALERTS_FOR_SECONDS", "0")
    monkeypatch.setenv("IPRWATCH_ALERTS_EVALUATION_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("IPRWATCH_ALERTS_GROUP_WAIT_SECONDS", "0")


@pytest.fixture
def plans_with_targets_in_progress(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The bundled plans, the 2026-2030 one with targets (none is published yet): Dazu 50
    geographical indications and 10亿 of pledge financing, the city an unreachable count of
    geographical indications."""
    plan = yaml.safe_load((BUNDLED_PLANS / f"{PLAN}.yaml").read_text())
    plan["indicators"]["geographical_indications"]["target"] = {"value": 1e6, "source": "test"}
    for division in plan["districts"]:
        if division["code"] == DISTRICT:
            division["targets"] = {
                "geographical_indications": {"value": 50, "source": "test"},
                "ip_pledge_financing_cny_cumulative": {"value": 1e9, "source": "test"},
            }
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / f"{PLAN}.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True))
    files = [BUNDLED_PLANS / f"{ENDED}.yaml", BUNDLED_PLANS / "national-14th-fyp.yaml"]
    monkeypatch.setenv(PLANS_ENV, ",".join(map(str, [*files, folder / f"{PLAN}.yaml"])))


@pytest.fixture
def running(
    alerts_fire_at_once: None, plans_with_targets_in_progress: None, request: pytest.FixtureRequest
) -> RunningServices:
    services: RunningServices = request.getfixturevalue("services")
    return services


@pytest.fixture
def prometheus_url(running: RunningServices, tmp_path: Path, promtool: str) -> Iterator[str]:
    """A real Prometheus scraping the three services every second, with the shipped rules.

    (`promtool` installs Debian's prometheus package, which holds both binaries, if missing.)
    """
    targets = {name: url.removeprefix("http://") for name, url in running.urls.items()}
    folder = tmp_path / "prometheus"
    config = prometheus.write_config(folder, prometheus.render_config(targets, "1s", "1s"))
    port = free_port()
    pid = prometheus.start(folder, config, port, folder / "prometheus.log")
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop(pid, prometheus.MARKER, timeout=20)


def event(
    n: int, kind: str, district: str, day: str, subject: bool = True, **data: object
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"panel-{kind}-{n}",
        "source": f"/registries/test/{kind.split('.')[0]}",
        "type": f"cn.ipr.{kind}",
        "time": f"{day}T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": {"district": district, **data},
    }
    if subject:
        body["subject"] = f"S-{kind}-{n}"
    return body


def wave(first: int) -> list[dict[str, Any]]:
    """Events of every kind over several districts and months; ids start at `first`."""
    months = [f"{2021 + (i // 12)}-{1 + i % 12:02d}-15" for i in range(0, 58, 3)]
    events = [
        event(first + i, "gi.product.registered", DISTRICT, day) for i, day in enumerate(months)
    ]
    events += [
        event(first + i, "trademark.madrid.registered", DISTRICT, day)
        for i, day in enumerate(months[::2])
    ]
    events += [
        event(first + i, "finance.pledge.registered", DISTRICT, day, amount_cny=5_000_000 * (i + 1))
        for i, day in enumerate(months[::3])
    ]
    for i, district in enumerate(("500112", "500101", "500103", "500105")):
        n = first + 100 + i
        events += [
            event(n, "patent.invention.granted", district, "2023-05-12", high_value=i % 2 == 0),
            event(n, "pct.application.filed", district, "2023-06-01"),
            event(n, "trademark.registered", district, "2024-02-01", agricultural=True),
            event(n, "copyright.software.registered", district, "2024-03-01"),
            event(n, "copyright.work.registered", district, "2024-04-01"),
            event(
                n, "service.revenue.reported", district, "2024-01-31", subject=False,
                year=2023, amount_cny=1_000_000 * (first + i + 1),
            ),
        ]  # fmt: skip
    events.append(event(first + 900, "patent.invention.granted", "500112", "2020-06-01"))
    events += [  # after the 14th plan's target date: the 2026-2030 plan's only
        event(first + 950 + i, "gi.product.registered", DISTRICT, f"2026-0{i + 3}-15")
        for i in range(3)
    ]
    events.append(  # one pledge in 2026: without it the plan has no data of Dazu's pledges
        event(first + 960, "finance.pledge.registered", DISTRICT, "2026-02-10",
              amount_cny=1_000_000)
    )  # fmt: skip
    return events


async def post(client: httpx.AsyncClient, services: RunningServices, body: object) -> int:
    response = await client.post(
        f"{services.ingest}/v1/events", json=body, headers=services.auth_headers
    )
    return response.status_code


async def publish_undecodable(kafka: KafkaSettings) -> None:
    """A record no fold can read, straight on the events topic: it must be dead-lettered."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            kafka.events_topic, value=b"{not json", key=DISTRICT.encode(),
            headers=[("ce_specversion", b"1.0"), ("ce_type", b"cn.ipr.gi.product.registered"),
                     ("ce_id", b"panel-poison"), ("ce_source", b"/registries/test/poison")],
        )  # fmt: skip
    finally:
        await producer.stop()


async def query(client: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    response = await client.get(f"{base}/api/v1/query", params={"query": expr})
    body = response.json()
    if body.get("status") != "success":
        raise QueryError(f"{body.get('errorType')}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    if body["data"]["resultType"] == "scalar":
        return [{"metric": {}, "value": result}]
    return result


class QueryError(Exception):
    pass


async def wait_for_targets(client: httpx.AsyncClient, base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        up = await query(client, base, 'up{job=~"ingest|indicators|alerts"} == 1')
        if len(up) == 3:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"Prometheus never scraped the three services: {up}")


def sample(series: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not series:
        return None
    first = series[0]
    value = first.get("value", first.get("values", [[0, None]])[-1])[1]
    return {"labels": first["metric"], "value": value}


async def run_panel(
    client: httpx.AsyncClient, base: str, panel_query: PanelQuery
) -> dict[str, Any]:
    expr = substitute(panel_query.expr, VARIABLES)
    row: dict[str, Any] = {
        "dashboard": panel_query.dashboard, "panel": panel_query.panel,
        "ref": panel_query.ref, "query": expr,
    }  # fmt: skip
    try:
        series = await query(client, base, expr)
    except QueryError as exc:
        return {**row, "series": 0, "sample": None, "error": str(exc)}
    return {**row, "series": len(series), "sample": sample(series), "error": None}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


async def test_every_panel_query_returns_data(
    running: RunningServices,
    prometheus_url: str,
    kafka_settings: KafkaSettings,
    client: httpx.AsyncClient,
) -> None:
    base = prometheus_url
    await wait_for_targets(client, base)

    # Two waves with a scrape between them, so that every counter has a rate.
    first = wave(0)
    assert await post(client, running, first) == 202
    refused = [event(1, "gi.product.registered", "509999", "2024-01-01"), {"type": "bad"}]
    assert await post(client, running, refused) == 422
    await asyncio.sleep(2.5)
    assert await post(client, running, wave(1000)) == 202
    assert await post(client, running, first[:10]) == 202  # the same acts again: duplicates
    assert await post(client, running, refused) == 422
    await publish_undecodable(kafka_settings)

    # What Prometheus must hold once everything is folded: exact, from the events sent above.
    accepted = 2 * len(first) + 10
    # Dazu's geographical indications: 40 in the 14th plan (acts up to 2025-12), 6 in the
    # 2026-2030 plan (Dazu has no published baseline: the change since 2025-12-31).
    exact: dict[str, float] = {
        value_of("geographical_indications", ENDED): 40,
        value_of("geographical_indications", PLAN): 6,
        value_of("madrid_registrations_cumulative", ENDED): 20,
        "sum(ipr_ingest_events_accepted_total)": accepted,
        "sum(ipr_ingest_events_rejected_total)": 4,
        "sum(ipr_fold_events_total)": accepted,
        'sum(ipr_fold_events_total{outcome="duplicate"})': 10,
        "sum(ipr_fold_dead_letters_total)": 1,
        'count(up{job=~"ingest|indicators|alerts"} == 1)': 3,
    }
    got = await wait_for_exact(client, base, exact)
    await asyncio.sleep(2)  # two rule evaluations, so recorded ratios use the final values

    boards = load_dashboards()
    panel_queries = [q for board in boards.values() for q in queries(board)]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        rows = [await run_panel(client, base, q) for q in panel_queries]
        failing = [r for r in rows if r["error"] or r["series"] == 0]
        if not failing or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)

    per_plan = await figures_per_plan(client, base, boards)
    variables = await check_variables(client, base, boards)
    unknown = await unexposed_metrics(client, base, panel_queries)
    rules = await unhealthy_rules(client, base)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {"panels": rows, "exact": got, "variables": variables, "unexposed_metrics": unknown,
             "unhealthy_rules": rules},
            ensure_ascii=False, indent=2,
        ) + "\n"
    )  # fmt: skip

    problems = [
        f"{r['dashboard']} / {r['panel']} / {r['ref']}: "
        + (f"error {r['error']}" if r["error"] else "no series")
        + f"\n    {r['query']}"
        for r in failing
    ]
    problems += [f"variable {name}: {problem}" for name, problem in variables.items() if problem]
    problems += [f"metric {name} is exposed by no service" for name in unknown]
    problems += [f"rule {name}: {error}" for name, error in rules.items()]
    problems += [f"{expr} = {got[expr]}, expected {value}" for expr, value in exact.items()
                 if got[expr] != value]  # fmt: skip
    # The same panel shows each plan's own figures for Dazu: the value, and the status by the
    # one definition: in the ended plan the outcome (2 on track: 40 reached the target of 7;
    # 4 behind: 2.8亿 of pledge financing missed 5亿); in the 2026-2030 plan (changes since
    # 2025-12-31) both below their path, fired critical by the alerts service (4 behind).
    assert per_plan == {
        (ENDED, "geographical_indications"): (40.0, 2.0),
        (PLAN, "geographical_indications"): (6.0, 4.0),
        (ENDED, "ip_pledge_financing_cny_cumulative"): (280_000_000.0, 4.0),
        (PLAN, "ip_pledge_financing_cny_cumulative"): (2_000_000.0, 4.0),  # one per wave
    }, per_plan
    assert not problems, f"see {REPORT}\n" + "\n".join(problems)
    assert all(
        r["sample"] is None
        or not math.isnan(float(r["sample"]["value"]))
        or "histogram_quantile" in r["query"]
        for r in rows
    )


async def figures_per_plan(
    client: httpx.AsyncClient, base: str, boards: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """(plan, indicator) -> (value, status code) of Dazu, from the district dashboard's own
    table queries (A: value, F: status) run with `$plan` = each plan."""
    table = {q.ref: q.expr for q in queries(boards["district-detail.json"])
             if q.panel.startswith("指标一览")}  # fmt: skip
    found: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    for plan in (ENDED, PLAN):
        columns = []
        for ref in ("A", "F"):
            series = await query(client, base, substitute(table[ref], {**VARIABLES, "plan": plan}))
            assert {s["metric"]["plan"] for s in series} == {plan}
            columns.append({s["metric"]["indicator"]: float(s["value"][1]) for s in series})
        for indicator in ("geographical_indications", "ip_pledge_financing_cny_cumulative"):
            found[(plan, indicator)] = (columns[0].get(indicator), columns[1].get(indicator))
    return found


def value_of(indicator: str, plan: str) -> str:
    return f'ipr_indicator_value{{plan="{plan}", district="{DISTRICT}", indicator="{indicator}"}}'


async def wait_for_exact(
    client: httpx.AsyncClient, base: str, expected: dict[str, float]
) -> dict[str, float | None]:
    """Poll until every expression has its expected value (or time runs out); the last values."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        got: dict[str, float | None] = {}
        for expr in expected:
            series = await query(client, base, expr)
            got[expr] = float(series[0]["value"][1]) if len(series) == 1 else None
        if got == expected or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.5)


async def check_variables(
    client: httpx.AsyncClient, base: str, boards: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Variable -> problem ("" when its label_values query lists the value the test uses)."""
    found: dict[str, str] = {}
    for board in boards.values():
        for name, text in variable_queries(board).items():
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", substitute(text, VARIABLES))
            if match is None:
                found[name] = f"not a label_values() query: {text}"
                continue
            selector, label = match.groups()
            response = await client.get(
                f"{base}/api/v1/label/{label}/values", params={"match[]": selector}
            )
            values = response.json().get("data") or []
            found[name] = "" if VARIABLES[name] in values else f"{values} lacks {VARIABLES[name]}"
    return found


async def unexposed_metrics(
    client: httpx.AsyncClient, base: str, panel_queries: list[PanelQuery]
) -> list[str]:
    """Metric and recording-rule names the panels use that Prometheus does not know."""
    metadata = (await client.get(f"{base}/api/v1/metadata")).json()["data"]
    names = (await client.get(f"{base}/api/v1/label/__name__/values")).json()["data"]
    known = set(metadata) | set(names)
    used = {name for q in panel_queries for name in METRIC.findall(q.expr)}
    return sorted(
        name for name in used if re.sub(r"_(bucket|count|sum)$", "", name) not in known
        and name not in known
    )  # fmt: skip


async def unhealthy_rules(client: httpx.AsyncClient, base: str) -> dict[str, str]:
    groups = (await client.get(f"{base}/api/v1/rules")).json()["data"]["groups"]
    return {
        rule["name"]: rule.get("lastError", "")
        for group in groups
        for rule in group["rules"]
        if rule["health"] != "ok"
    }
