"""The `iprwatch indicators` commands: run the service; rebuild its tables from the topic."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    """Register this service's commands on the `iprwatch` parser's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "indicators", help="run the indicators service (or: indicators rebuild)"
    )
    parser.set_defaults(handler=_run)
    sub = parser.add_subparsers(dest="indicators_command", required=False)
    rebuild = sub.add_parser(
        "rebuild",
        help="replay the events topic from the earliest offset into shadow tables and swap "
        "them in atomically (the live service keeps serving the old totals until the swap)",
    )
    rebuild.set_defaults(handler=_rebuild)


def _run(_: argparse.Namespace) -> int:
    from services.indicators.entrypoints.main import run

    run()
    return 0


def _rebuild(_: argparse.Namespace) -> int:
    from rich.console import Console

    from services.indicators.entrypoints.rebuild import run_with_progress_bar
    from services.indicators.settings import IndicatorsSettings
    from shared.telemetry import configure_logging
    from shared.unavailable import describe

    settings = IndicatorsSettings()
    configure_logging("indicators-rebuild", "WARNING")
    console = Console(stderr=True)
    try:
        done = run_with_progress_bar(settings)
    except (OSError, ConnectionError) as exc:
        reason = describe(exc) or f"cannot reach Kafka or PostgreSQL: {exc}"
        console.print(f"[red]error:[/red] {reason}", highlight=False)
        return 1
    console.print(
        f"rebuilt schema [bold]{settings.db_schema}[/bold] from {done.records:,} records "
        f"({done.acts:,} acts) in {done.seconds:.1f} s; the old tables are in "
        f"[bold]{done.retired_schema}[/bold] (drop it when satisfied)"
    )
    return 0
