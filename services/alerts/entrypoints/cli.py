"""`iprwatch alerts`: run the alerts service; `iprwatch alerts backtest`: replay a history."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

from shared.plan import Plan, load_plan

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

History = dict[tuple[str, str], list[tuple[str, float]]]


def add_commands(commands: Any) -> None:
    """Register this service's commands on the `iprwatch` parser's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "alerts", help="run the alerts service (or: alerts backtest)"
    )
    parser.set_defaults(handler=_run)
    sub = parser.add_subparsers(dest="alerts_command")
    backtest = sub.add_parser(
        "backtest",
        help="replay a history of indicator values: when would each alert fire and resolve",
        description="Replay monthly indicator values through the alert rules, month end by "
        "month end, and print when each alert would have fired and resolved.",
    )
    backtest.add_argument("--from", dest="start", type=_month, required=True, help="YYYY-MM")
    backtest.add_argument("--to", dest="end", type=_month, required=True, help="YYYY-MM")
    backtest.add_argument(
        "--history", type=Path,
        help="CSV with columns district,indicator,month,value (end-of-month values); "
        "default: the series the alerts service holds in its database",
    )  # fmt: skip
    backtest.add_argument(
        "--plan",
        help="a loaded plan's id (IPRWATCH_PLANS, default the bundled plans) or a plan file; "
        "default: the plan in progress today",
    )
    backtest.add_argument("--for-months", type=int, default=1, help="pending span (default 1)")
    backtest.add_argument("--hold-months", type=int, default=1, help="hold-down (default 1)")
    backtest.add_argument(
        "--charts", type=Path, help="write the mail's PNG chart (1200×700) per alerting key here"
    )
    backtest.add_argument("--json", action="store_true", help="print JSON instead of a table")
    backtest.set_defaults(handler=_backtest)


def _month(text: str) -> str:
    if not _MONTH.match(text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return text


def _run(_: argparse.Namespace) -> int:
    from services.alerts.entrypoints.main import run

    run()
    return 0


def read_history(path: Path) -> History:
    """A CSV history; raises ValueError naming the line of a bad row."""
    history: History = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            try:
                month, value = row["month"].strip(), float(row["value"])
                if not _MONTH.match(month):
                    raise ValueError(f"month must be YYYY-MM, got {month!r}")
                key = (row["district"].strip(), row["indicator"].strip())
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from None
            history.setdefault(key, []).append((month, value))
    return history


async def _history_from_database(plan: str) -> History:
    from services.alerts.bootstrap import stored_series
    from services.alerts.settings import AlertsSettings

    series = await stored_series(AlertsSettings(), plan)
    return {(d, i): points for (_, d, i), points in series.items()}


def choose_plan(name: str | None) -> Plan:
    """`--plan`: a plan file, or the id of a loaded plan; None: the plan in progress today."""
    from datetime import UTC, datetime

    from services.alerts.settings import AlertsSettings
    from shared.plans import load_plans

    if name and (name.endswith((".yaml", ".yml")) or "/" in name):
        return load_plan(Path(name))
    plans = load_plans(AlertsSettings().plan_files())
    if name:
        return plans.get(name)
    return plans.default(datetime.now(UTC).date())


def _backtest(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from services.alerts.domain.backtest import replay
    from services.alerts.domain.snapshots import chart_png
    from shared.numbers import chinese_amount
    from shared.plan import PlanError
    from shared.unavailable import describe

    err = Console(stderr=True)
    if args.start > args.end:
        err.print(f"[red]error:[/red] --from {args.start} is after --to {args.end}")
        return 2
    try:
        plan = choose_plan(args.plan)
        history = read_history(args.history) if args.history else asyncio.run(
            _history_from_database(plan.id)
        )  # fmt: skip
    except KeyError as exc:
        err.print(f"[red]error:[/red] {exc.args[0]}", highlight=False)
        return 1
    except (PlanError, ValueError, OSError) as exc:
        err.print(f"[red]error:[/red] {describe(exc) or exc}", highlight=False)
        return 1
    result = replay(plan, history, args.start, args.end, args.for_months, args.hold_months)
    if args.charts:
        args.charts.mkdir(parents=True, exist_ok=True)
        keys = sorted({(e.district, e.indicator) for e in result.episodes})
        for key in track(keys, description="charts", console=err):
            (args.charts / f"{key[0]}-{key[1]}.png").write_bytes(chart_png(result.snapshots[key]))
    if args.json:
        rows = [vars(e) for e in result.episodes]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    table = Table(title=f"Backtest of {plan.id} {args.start} → {args.end}: "
                        f"{len(result.episodes)} alert(s)")  # fmt: skip
    for column in ("district", "indicator", "fired", "resolved", "status", "value",
                   "required", f"forecast {plan.target_date.year}"):  # fmt: skip
        table.add_column(column)
    for e in result.episodes:
        unit = plan.indicator(e.indicator).unit

        def shown(value: float | None, unit: str = unit) -> str:
            return "—" if value is None else chinese_amount(value, unit)

        table.add_row(e.district, e.indicator, e.fired, e.resolved or "(firing)", e.status,
                      shown(e.value), shown(e.required), shown(e.forecast))  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0
