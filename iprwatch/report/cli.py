"""`iprwatch report`: the monthly bulletin (统计月报) of a plan, as PDF and HTML.

Reads the indicators API over HTTP (`IPRWATCH_INDICATORS_URL`), the alerts API if it answers
(`IPRWATCH_ALERTS_URL`), and writes `bulletin-<plan>-<YYYY-MM>.pdf` and `.html` into `--out`,
listed in `--out`/reports.json.
"""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from iprwatch.report import render
from shared.bulletin import model
from shared.bulletin import render as bulletin_render
from shared.bulletin.source import (
    ALERTS_URL_ENV,
    INDICATORS_URL_ENV,
    Endpoints,
    Source,
    SourceError,
)
from shared.charts import FontMissing

console = Console(stderr=True)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def add_commands(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="write the monthly bulletin (统计月报) of a plan as PDF and HTML",
        description="The monthly bulletin of a plan: cover, summary (statuses, or the final "
        "evaluation of an ended plan), the area's indicators against the plan with charts, the "
        "divisions' ranking, what changed this month, the alerts. Reads the indicators API "
        f"({INDICATORS_URL_ENV}) and, if it answers, the alerts API ({ALERTS_URL_ENV}).",
    )
    report.add_argument(
        "--plan", default=None, help="a plan id (default: the plan in progress today)"
    )
    report.add_argument("--month", default=None, type=_month, help="YYYY-MM (default: last month)")
    report.add_argument(
        "--out", type=Path, default=Path("."), help="output folder (default: the current one)"
    )
    report.add_argument(
        "--url", default=None, help=f"indicators API (default: {INDICATORS_URL_ENV})"
    )
    report.add_argument(
        "--alerts-url", default=None, help=f"alerts API (default: {ALERTS_URL_ENV})"
    )
    report.set_defaults(handler=_report)


def _month(text: str) -> str:
    if not _MONTH.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM")
    return text


def default_plan(plans: list[dict[str, Any]]) -> dict[str, Any]:
    """As the services choose: in progress today (started last), else the one ended last."""
    running = [p for p in plans if p["state"] == "in_progress"]
    if running:
        return max(running, key=lambda p: (p["baseline_date"], p["id"]))
    ended = [p for p in plans if p["state"] == "ended"]
    if ended:
        return max(ended, key=lambda p: (p["target_date"], p["id"]))
    return min(plans, key=lambda p: (p["baseline_date"], p["id"]))


def last_month(today: date) -> str:
    return model.previous_month(f"{today:%Y-%m}")


def _report(args: argparse.Namespace) -> int:
    try:
        written = make_report(args.plan, args.month, args.out, args.url, args.alerts_url)
    except (SourceError, FontMissing) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    console.print(
        f"wrote [bold]{written.pdf}[/bold] ({written.pages} pages, {written.bytes:,} bytes) "
        f"and [bold]{written.html}[/bold]",
        highlight=False,
    )
    return 0


def make_report(
    plan_id: str | None,
    month: str | None,
    out: Path,
    url: str | None = None,
    alerts_url: str | None = None,
) -> render.Written:
    endpoints = Endpoints.from_env(url, alerts_url)
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Source(endpoints) as source, Progress(*columns, console=console) as progress:
        task = progress.add_task("读取规划 (plans)", total=None)
        plans = source.plans()
        if not plans:
            raise SourceError(f"the indicators API at {endpoints.indicators} serves no plan")
        if plan_id is None:
            chosen = default_plan(plans)
        else:
            found = [p for p in plans if p["id"] == plan_id]
            if not found:
                known = ", ".join(p["id"] for p in plans)
                raise SourceError(f"unknown plan {plan_id!r}: the API serves {known}")
            chosen = found[0]
        today = datetime.now(ZoneInfo(chosen["timezone"])).date()
        month = month or last_month(today)
        plan = source.plan(chosen["id"])
        keys = model.chart_keys(plan)
        progress.update(task, total=len(keys) + 4, completed=1)
        progress.update(task, description=f"读取指标 {plan.id} {month}")
        current = source.indicators(plan.id, month)
        previous = source.indicators(plan.id, model.previous_month(month))
        progress.advance(task)
        progress.update(task, description="读取月度序列 (series)")
        series = source.all_series(plan.id, keys, month, lambda: progress.advance(task))
        progress.update(task, description="读取告警 (alerts)")
        alerts, why = source.alerts(plan.id)
        progress.advance(task)
        bulletin = model.build(plan, month, today, current, previous, series, alerts, why)
        charts = progress.add_task("绘制图表 (charts)", total=len(bulletin.charts))
        images = []
        for chart in bulletin.charts:
            images.append(bulletin_render.chart_image(chart))
            progress.advance(charts)
        page = bulletin_render.html(bulletin, images)
        pdf = progress.add_task("排版 PDF (WeasyPrint)", total=1)
        written = render.write(bulletin, page, out)
        progress.advance(pdf)
        progress.advance(task)
    return written
