"""`iprwatch simulate` (a registry simulator) and `iprwatch demo` (the whole job, end to end)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from iprwatch.simulator.model import Scenario
    from shared.plan import Plan

console = Console(stderr=True)


def add_commands(commands: Any) -> None:
    """Register `simulate` and `demo` on the `iprwatch` parser's subparsers."""
    simulate = commands.add_parser(
        "simulate",
        help="send years of calibrated registry events to ingest; write the ground truth",
        description="Registry systems pushing events through the ingest API (tokens, batches, "
        "retries on 503), deterministic for a seed, with duplicates, re-sent acts, "
        "out-of-order and late events; writes the expected indicator values to a JSON file.",
    )
    _scenario_arguments(simulate)
    simulate.add_argument("--url", default=None, help="ingest (default: IPRWATCH_INGEST_URL)")
    simulate.add_argument(
        "--token",
        default=None,
        help="bearer token (default: IPRWATCH_TOKEN, then <IPRWATCH_HOME>/simulator.token)",
    )
    simulate.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="ground truth file (default: <IPRWATCH_HOME>/simulation/truth.json)",
    )
    simulate.add_argument(
        "--dry-run", action="store_true", help="write the ground truth only; send nothing"
    )
    simulate.add_argument(
        "--statistics",
        action="store_true",
        help="also send official statistics (cn.ipr.statistic.reported) of the loaded plans' "
        "`reported` indicators for the divisions simulated, some corrected later; ingest must "
        "accept those divisions (the plan that defines the indicators)",
    )
    simulate.set_defaults(handler=_simulate)

    demo = commands.add_parser(
        "demo",
        help="bring the stack up, simulate the real city (scale 1) 2021 to now, wait, and show "
        "what IPR Watch saw next to the published figures",
    )
    _scenario_arguments(demo, default_scale=1.0)
    demo.add_argument(
        "--wait",
        type=float,
        default=600.0,
        help="seconds to wait for the pipeline to catch up (default %(default)s)",
    )
    demo.set_defaults(handler=_demo)


def _scenario_arguments(parser: argparse.ArgumentParser, default_scale: float = 0.01) -> None:
    parser.add_argument("--from", dest="first", default="2021-01", help="first month (YYYY-MM)")
    parser.add_argument("--to", dest="last", default=None, help="last month (default: this one)")
    parser.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    parser.add_argument(
        "--scale",
        type=float,
        default=default_scale,
        help="share of the real volumes to send (default %(default)g; 1 = the real city, "
        "~1.6M events)",
    )
    parser.add_argument(
        "--lagging",
        default="500111",
        help="district codes that lag, comma-separated, or 'none' (default Dazu)",
    )
    parser.add_argument(
        "--lag-factor",
        type=float,
        default=0.25,
        help="a lagging district's share of its usual flows (default 0.25)",
    )
    parser.add_argument(
        "--no-mess",
        action="store_true",
        help="no duplicates, re-sends, late or out-of-order events",
    )
    parser.add_argument("--rate", type=float, default=None, help="events per second (default: max)")
    parser.add_argument("--batch", type=int, default=500, help="events per request (default 500)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")


def plan_and_scenario(args: argparse.Namespace) -> tuple[Plan, Scenario] | None:
    """The plan and the scenario the options describe; None, after saying why, if invalid."""
    from shared.plan import PlanError, default_plan_path, load_plan

    try:
        plan = load_plan(default_plan_path())
        return plan, scenario_from(args, plan)
    except (PlanError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return None


def scenario_from(args: argparse.Namespace, plan: Plan) -> Scenario:
    from dataclasses import replace

    from iprwatch.simulator.model import Mess, Rates, Scenario
    from iprwatch.simulator.runner import yesterday
    from shared.months import parse_month

    until = yesterday(plan)
    first = parse_month(args.first)
    last = parse_month(args.last) if args.last else until.replace(day=1)
    if last < first:
        raise ValueError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    if not 0 < args.scale <= 10:
        raise ValueError(f"--scale must be in (0, 10], got {args.scale}")
    lagging = (
        frozenset()
        if args.lagging.strip() in ("", "none")
        else frozenset(code.strip() for code in args.lagging.split(","))
    )
    unknown = sorted(code for code in lagging if not plan.is_district(code))
    if unknown:
        raise ValueError(f"--lagging: not districts of the plan: {', '.join(unknown)}")
    mess = Mess(0, 0, 0, 0, 0) if args.no_mess else Mess()
    return Scenario(
        first_month=first,
        last_month=last,
        seed=args.seed,
        scale=args.scale,
        lagging=lagging,
        until=min(until, date.max),
        rates=replace(Rates(), lag_factor=args.lag_factor),
        mess=mess,
        statistics=getattr(args, "statistics", False),
    )


def _simulate(args: argparse.Namespace) -> int:
    from iprwatch.simulator.client import SendError, SendOptions, find_token, ingest_url
    from iprwatch.simulator.progress import simulate_with_progress
    from iprwatch.simulator.runner import count_and_truth
    from iprwatch.stack.home import StackHome

    loaded = plan_and_scenario(args)
    if loaded is None:
        return 2
    plan, scenario = loaded
    truth_file = args.truth or StackHome.default().root / "simulation" / "truth.json"
    if args.dry_run:
        events, _ = count_and_truth(plan, scenario, truth_file)
        console.print(f"{events} events; ground truth in {truth_file}")
        return 0
    options = SendOptions(
        url=ingest_url(args.url),
        token=find_token(args.token),
        batch_size=args.batch,
        rate=args.rate,
        concurrency=args.concurrency,
    )
    try:
        outcome = asyncio.run(simulate_with_progress(plan, scenario, options, truth_file))
    except SendError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    sent = outcome.sent
    console.print(
        f"sent {sent.events} events in {sent.batches} batches in {sent.seconds:.1f}s "
        f"({sent.events_per_second:.0f} events/s, {sent.retries} retries); "
        f"ground truth in {truth_file}",
        highlight=False,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from iprwatch.simulator.demo import run_demo

    return run_demo(args)
