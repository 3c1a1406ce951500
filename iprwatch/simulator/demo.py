"""`iprwatch demo`: the stack up, years of registry events, the values checked, the alerts shown.

(Kept whole, a little over 300 lines: one script, its steps in the order they run.)

Safe to run twice: the events are deterministic for the seed (same ids, same acts), so a second
run is all duplicates, plus the acts of the days since the first run, and no total doubles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console
from rich.table import Table

from iprwatch.simulator.check import (
    compare,
    fold_progress,
    read_mail,
    wait_caught_up,
    wait_settled,
)
from iprwatch.simulator.client import SendError, SendOptions, find_token
from iprwatch.simulator.progress import simulate_with_progress
from iprwatch.simulator.published import rows, table, year_end_values
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import LOOPBACK, StackError
from iprwatch.stack.stack import SERVICES, Stack
from shared.numbers import chinese_amount
from shared.plan import Plan, default_plan_path
from shared.settings import PlanSettings

console = Console(stderr=True)
out = Console(width=None if Console().is_terminal else 120)

# The demo's alert timings (unless already set), for the services the demo starts: a condition
# held 30 s (not a day) fires, one gone 30 s resolves; the partial totals seen while the
# pipeline catches up (a few seconds) therefore never reach anyone's mailbox.
DEMO_ALERTS_ENV = {
    "IPRWATCH_ALERTS_FOR_SECONDS": "30",
    "IPRWATCH_ALERTS_HOLD_DOWN_SECONDS": "30",
    "IPRWATCH_ALERTS_GROUP_WAIT_SECONDS": "2",
    "IPRWATCH_ALERTS_EVALUATION_INTERVAL_SECONDS": "10",
    # the 14th plan's final evaluation once its values have been still for 30 s (not 10 min)
    "IPRWATCH_ALERTS_SETTLE_SECONDS": "30",
}


def _say(message: str) -> None:
    console.print(f"[dim]·[/dim] {message}", highlight=False)


def run_demo(args: argparse.Namespace) -> int:
    from iprwatch.simulator.cli import plan_and_scenario

    started = time.monotonic()
    for name, value in DEMO_ALERTS_ENV.items():
        os.environ.setdefault(name, value)
    home = StackHome.default()
    loaded = plan_and_scenario(args)
    if loaded is None:
        return 2
    plan, scenario = loaded
    console.rule("1. the stack")
    try:
        state = Stack(home, say=_say).up()
    except StackError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    urls = {
        name: f"http://{LOOPBACK}:{state.parts[name].port}"
        for name in (*SERVICES, "prometheus", "grafana")
        if name in state.parts
    }
    _say(f"plan {plan.id} ({default_plan_path()}): {len(plan.districts)} districts, "
         f"{len(plan.indicators)} indicators")  # fmt: skip

    console.rule("2. registry systems send their events")
    options = SendOptions(
        url=urls["ingest"], token=find_token(None, home), batch_size=args.batch,
        rate=args.rate, concurrency=args.concurrency,
    )  # fmt: skip
    truth_file = home.root / "demo" / "truth.json"
    prior, comparable = asyncio.run(_before(urls["indicators"], truth_file, scenario))
    try:
        outcome = asyncio.run(simulate_with_progress(plan, scenario, options, truth_file))
    except SendError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    tally = outcome.truth["tally"]
    _say(f"sent {outcome.sent.events} events ({tally['unique_acts']} unique acts, "
         f"{tally['duplicate_ids']} repeats of an id, {tally['duplicate_acts']} acts re-sent "
         f"under a new id, {tally['baseline_acts']} acts already in the baseline) in "
         f"{outcome.sent.seconds:.1f}s, {outcome.sent.events_per_second:.0f} events/s; "
         f"ground truth in {truth_file}")  # fmt: skip

    console.rule("3. the pipeline catches up")
    if not comparable:
        _say(
            "this stack already held other events (another seed or scale, or your own): its "
            "values are theirs plus this run's, so the ground truth cannot be compared; "
            "waiting for the fold to settle instead (a fresh IPRWATCH_HOME compares exactly)"
        )
        settled = asyncio.run(
            wait_settled(urls["indicators"], outcome.sent.events, prior, args.wait)
        )
        left = [] if settled else ["the fold did not settle"]
    else:
        left = asyncio.run(
            wait_caught_up(urls["indicators"], outcome.truth, args.wait, say=_say, poll=0.5)
        )
    # first event sent -> every value equal to the truth (or, not comparable, the fold settled)
    span = time.monotonic() - outcome.sent.started
    if left:
        console.print(
            f"[red]the indicators did not reach the ground truth within {args.wait:.0f}s[/red] "
            f"({len(left)} values differ; first ones below). Is the indicators service folding? "
            f"See {home.logs / 'indicators.log'} and `iprwatch stack status`.",
            highlight=False,
        )
        for line in left[:10]:
            console.print(f"  {line}", highlight=False)
        return 1
    timing = (
        f"{outcome.sent.events:,} events: first event sent → "
        + ("every value equal to the truth" if comparable else "the fold settled")
        + f" in {span:.1f}s (sending {outcome.sent.seconds:.1f}s; "
        f"the demo's peak RSS {_peak_rss_mb():.0f} MB)"
    )
    if comparable:
        _say("every indicator value on the API and on /metrics equals the ground truth")
    _say(timing)
    recipients = _expected_recipients(plan, scenario.lagging)
    if recipients:
        _say(f"waiting for the alerts to hold 30 s and mail {', '.join(sorted(recipients))}")
    notices = asyncio.run(_wait_for_notices(urls["alerts"], home.mail, recipients, 180))
    alerts = asyncio.run(_firing(urls["alerts"]))

    console.rule("4. what IPR Watch saw")
    _where_to_look(urls, home)
    _plans_tables(urls["indicators"], plan)
    _alerts_table(plan, alerts, notices, recipients, home.mail)
    _published_table(urls["indicators"], plan, scenario.scale, comparable)
    out.print(timing, highlight=False)
    out.print(f"demo finished in {time.monotonic() - started:.0f}s", highlight=False)
    return 0


async def _before(indicators_url: str, truth_file: Path, scenario: Any) -> tuple[float, bool]:
    """(records folded before this run, whether the values can be compared with its truth).
    They can on an empty stack, and on one holding exactly an earlier run of the same scenario
    (its truth file still matches the values): this run resends those events under the same
    ids, plus the acts of the days since."""
    folded, _ = await fold_progress(indicators_url)
    if folded == 0:
        return folded, True
    try:
        previous = json.loads(truth_file.read_text())
    except (OSError, ValueError):
        return folded, False
    same = ("seed", "scale", "lagging", "first_month", "rates", "mess")
    now = {
        "seed": scenario.seed, "scale": scenario.scale, "lagging": sorted(scenario.lagging),
        "first_month": f"{scenario.first_month:%Y-%m}", "rates": asdict(scenario.rates),
        "mess": asdict(scenario.mess),
    }  # fmt: skip
    if any(previous.get("scenario", {}).get(key) != now[key] for key in same):
        return folded, False
    return folded, not await compare(indicators_url, previous)


def _published_table(indicators_url: str, plan: Plan, scale: float, comparable: bool) -> None:
    """The city's year-end values next to the published ones (公布值对照)."""
    try:
        answers = asyncio.run(year_end_values(indicators_url, plan))
    except httpx.HTTPError as exc:
        out.print(f"no 公布值对照: the indicators service did not answer ({exc})", highlight=False)
        return
    found = rows(plan, answers)
    notes = () if comparable else (
        "this stack also holds other events (another seed or scale, or your own): its values "
        "are theirs plus this run's",
    )  # fmt: skip
    out.print(table(plan, found, scale, notes) if found else f"no published figures in {plan.id}")


def _peak_rss_mb() -> float:
    """This process's peak resident memory (the simulator's; the services run apart)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _where_to_look(urls: dict[str, str], home: StackHome) -> None:
    table = Table(title="Where to look", show_header=False)
    table.add_row("progress board", f"{urls['indicators']}/")
    table.add_row("indicator values (JSON)", f"{urls['indicators']}/v1/indicators?district=500000")
    for name in SERVICES:
        table.add_row(f"{name} metrics", f"{urls[name]}/metrics")
    table.add_row("alerts (JSON)", f"{urls['alerts']}/v1/alerts?state=firing")
    for name in ("prometheus", "grafana"):
        if name in urls:
            table.add_row(name, f"{urls[name]}/")
    table.add_row("mail received", str(home.mail))
    table.add_row("logs", str(home.logs))
    out.print(table)


def _plans_tables(indicators_url: str, plan: Plan) -> None:
    """The simulated plan's final evaluation once it ended, and the plan period after it."""
    plans = PlanSettings().load()
    today = datetime.now(plan.zone).date()
    if plan.state(today) == "ended":
        asyncio.run(_final_evaluation(indicators_url, plan))
    for later in plans:
        if later.derive_baselines_from == plan.id and later.state(today) == "in_progress":
            asyncio.run(_progress_since_baseline(indicators_url, later))
    if plan.state(today) != "ended":
        asyncio.run(_progress_since_baseline(indicators_url, plan))


async def _plan_items(indicators_url: str, plan_id: str, code: str | None) -> list[dict[str, Any]]:
    params = {"plan": plan_id} if code is None else {"plan": plan_id, "district": code}
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(f"{indicators_url}/v1/indicators", params=params)
    found: list[dict[str, Any]] = response.json()["items"] if response.status_code == 200 else []
    return found


_OUTCOME_ZH = {"achieved": "达成 achieved", "missed": "未达成 missed",
               "no_target": "无目标", "no_data": "无数据"}  # fmt: skip


async def _final_evaluation(indicators_url: str, plan: Plan) -> None:
    """The ended plan's outcome of every (division, indicator) with a target (终期评估)."""
    items = [i for i in await _plan_items(indicators_url, plan.id, None) if i.get("target")]
    table = Table(title=f"{plan.name_zh}: 终期评估 final evaluation")
    columns = ("区县 division", "指标", "indicator", "period", "value", "target", "outcome",
               "shortfall")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    for item in items:
        result = item.get("outcome") or {}
        table.add_row(
            f"{item['district']} {item['district_name_zh']}", item["name_zh"], item["indicator"],
            str(result.get("period") or "-"), _number(result.get("value")),
            _number(item.get("target")), _OUTCOME_ZH.get(str(result.get("outcome")), "-"),
            _number(result.get("shortfall")),
        )  # fmt: skip
    out.print(table if items else f"no targets or no values for {plan.id}")


async def _progress_since_baseline(indicators_url: str, plan: Plan) -> None:
    """The plan in progress: each area indicator since the plan's baseline date."""
    items = await _plan_items(indicators_url, plan.id, plan.city.code)
    title = (f"{plan.name_zh}: progress since the baseline {plan.baseline_date} "
             f"({plan.city.name_zh})")  # fmt: skip
    table = Table(title=title)
    for column in ("指标", "indicator", "baseline", "now", "change", "target", "status"):
        table.add_column(column, justify="left" if column in ("指标", "indicator") else "right")
    for item in items:
        value, baseline = item.get("value"), item.get("baseline")
        yearly = item.get("kind") in ("annual", "reported")  # another year's figure: no change
        change = None if value is None or baseline is None or yearly else value - baseline
        kind = item.get("baseline_kind")
        shown = _number(baseline) + (" (推算 derived)" if kind == "derived" else "")
        status = str(item.get("status", "-"))
        so_far = item.get("reported_so_far")
        if so_far:
            status += f" ({so_far['period']} 已报送 {so_far['divisions']}/{so_far['of']} 个区县)"
        elif item.get("provisional"):
            status += " (provisional)"
        table.add_row(item["name_zh"], item["indicator"], shown, _number(value),
                      _number(change), _number(item.get("target")), status)  # fmt: skip
    out.print(table if items else f"no values for {plan.id} (is indicators answering?)")


async def _get_list(url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(url, params=params)
        found: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
        return found
    except httpx.HTTPError:
        return []


async def _firing(alerts_url: str) -> list[dict[str, Any]]:
    """The alerts firing, and those pending (their condition holds; not yet long enough)."""
    found = await _get_list(f"{alerts_url}/v1/alerts")
    return [a for a in found if a.get("state") in ("firing", "pending")]


async def _wait_for_notices(
    alerts_url: str, mail: Path, recipients: set[str], timeout: float
) -> list[dict[str, Any]]:
    """The alerts' send log, once every expected recipient was mailed (now or in an earlier
    run: a firing alert is mailed once, not again on a second demo) or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        notices = await _get_list(f"{alerts_url}/v1/notifications")
        reached = {str(n["recipient"]).lower() for n in notices if n.get("status") == "sent"}
        reached |= {address for m in read_mail(mail) for address in m.to}
        if recipients <= reached or time.monotonic() > deadline:
            return notices
        await asyncio.sleep(2)


def _alerts_table(
    plan: Plan,
    alerts: list[dict[str, Any]],
    notices: list[dict[str, Any]],
    recipients: set[str],
    mail: Path,
) -> None:
    table = Table(title="Alerts (firing, or pending until the condition has held 30 s)")
    for column in ("district", "indicator", "state", "status", "value", "required now", "target"):
        table.add_column(column)
    alerts = [a for a in alerts if a.get("plan", plan.id) == plan.id]
    for alert in sorted(alerts, key=lambda a: (a["district"], a["indicator"])):
        code = alert["district"]
        place = plan.city if code == plan.city.code else plan.district(code)
        table.add_row(
            f"{code} {place.name_zh} {place.name_en}", alert["indicator"], alert["state"],
            alert["status"], _number(alert.get("value")), _number(alert.get("required")),
            _number(alert.get("target")),
        )  # fmt: skip
    out.print(table if alerts else "no alert is firing")
    sent = [n for n in notices if n.get("status") == "sent"]
    log = Table(title=f"Mail sent to officials ({len(sent)}; the files are in {mail})")
    for column in ("sent at (Beijing)", "to", "subject"):
        log.add_column(column)
    for notice in sorted(sent, key=lambda n: str(n.get("sent_at")))[-12:]:
        log.add_row(str(notice.get("sent_at"))[:19], notice["recipient"], notice["subject"])
    out.print(log)
    reached = {str(n["recipient"]).lower() for n in sent}
    reached |= {address for m in read_mail(mail) for address in m.to}
    missing = sorted(recipients - reached)
    if missing:
        out.print(f"no mail yet for: {', '.join(missing)}", highlight=False)


def _expected_recipients(plan: Plan, lagging: frozenset[str]) -> set[str]:
    """The officials of the lagging districts that have targets (those that can alert)."""
    path = Path(
        os.environ.get("IPRWATCH_ALERTS_RECIPIENTS_FILE")
        or REPO_ROOT / "deploy" / "alerts" / "recipients.yaml"
    )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return set()
    districts = {str(k): v for k, v in (raw.get("districts") or {}).items()}
    return {
        str(person["email"]).lower()
        for code in lagging
        if plan.is_district(code) and plan.district(code).targets
        for person in districts.get(code, [])
    }


def _number(value: float | None) -> str:
    """As officials read numbers: 亿 (1e8) and 万 (1e4) for large ones."""
    return "-" if value is None else chinese_amount(value)
