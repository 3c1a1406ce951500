"""The `iprwatch ingest` command: run the ingest service."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    """Register this service's commands on the `iprwatch` parser's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser("ingest", help="run the ingest service")
    parser.set_defaults(handler=_run)


def _run(_: argparse.Namespace) -> int:
    from services.ingest.entrypoints.main import run

    run()
    return 0
