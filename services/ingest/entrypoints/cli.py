"""The ingest service's commands: `iprwatch ingest`, `iprwatch tokens`, `iprwatch import`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shared.ingest_client import ingest_url


def add_commands(commands: Any) -> None:
    """Register this service's commands on the `iprwatch` parser's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser("ingest", help="run the ingest service")
    parser.set_defaults(handler=_run)

    tokens = commands.add_parser("tokens", help="bearer tokens of the registry systems")
    tokens.add_argument(
        "--file", type=Path, default=None, help="tokens file (default: IPRWATCH_INGEST_TOKENS_FILE)"
    )
    actions = tokens.add_subparsers(dest="tokens_command", required=True)
    add = actions.add_parser("add", help="create a token and print it once")
    add.add_argument("name", help="the registry system, e.g. cnipa-patents")
    add.add_argument(
        "--source",
        action="append",
        required=True,
        dest="sources",
        help="allowed `source`: exact, or a prefix like /registries/cnipa/* "
        "(repeatable; * for any)",
    )
    add.add_argument(
        "--type",
        action="append",
        required=True,
        dest="types",
        help="allowed event type, exact or prefix like cn.ipr.patent.* (repeatable; * for any)",
    )
    add.set_defaults(handler=_tokens_add)
    actions.add_parser("list", help="the tokens and their scopes").set_defaults(
        handler=_tokens_list
    )
    revoke = actions.add_parser("revoke", help="remove a token")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_tokens_revoke)

    bulk = commands.add_parser(
        "import",
        help="send an office's export (Excel, CSV, NDJSON) to ingest",
        description="Send an export to the ingest API. With --mapping NAME, an export of a "
        "patent or trademark search system or a statistics sheet (deploy/imports/NAME.yaml); "
        "without, a file of CloudEvents.",
    )
    bulk.add_argument("file", type=Path, help="a .xlsx, .csv or .ndjson/.jsonl file")
    bulk.add_argument(
        "--mapping",
        default=None,
        help="the export's layout: a name in deploy/imports/ (e.g. cnipa-patent-grants) "
        "or the path of a mapping .yaml; without it the file must be CloudEvents",
    )
    bulk.add_argument(
        "--sheet", default=None, help="Excel: the sheet's name or number (default: the first)"
    )
    bulk.add_argument(
        "--encoding", default=None, help="CSV/NDJSON: default detected (UTF-8, else GB18030)"
    )
    bulk.add_argument(
        "--dry-run",
        action="store_true",
        help="map and validate against the contract and the plan, count, send nothing",
    )
    bulk.add_argument(
        "--rate", type=float, default=None, help="at most this many events per second"
    )
    bulk.add_argument(
        "--plan",
        type=Path,
        default=None,
        help="plan file (default: IPRWATCH_PLAN_FILE or the bundled plan)",
    )
    bulk.add_argument("--no-progress", action="store_true", help="no progress bar")
    bulk.add_argument(
        "--url",
        default=ingest_url(),
        help="the ingest service (default: IPRWATCH_INGEST_URL or %(default)s)",
    )
    bulk.add_argument(
        "--token",
        default=None,
        help="bearer token (default: IPRWATCH_TOKEN, then .iprwatch/simulator.token)",
    )
    bulk.add_argument("--batch", type=int, default=1000, help="events per request (max 10000)")
    bulk.add_argument(
        "--rejected",
        type=Path,
        default=None,
        help="where rejected rows go (default: FILE.rejected.ndjson)",
    )
    bulk.add_argument(
        "--format",
        choices=("xlsx", "csv", "ndjson"),
        default=None,
        help="default: from the file's extension",
    )
    bulk.set_defaults(handler=_import)


def _run(_: argparse.Namespace) -> int:
    from services.ingest.entrypoints.main import run

    run()
    return 0


def _store(args: argparse.Namespace) -> Any:
    from services.ingest.bootstrap import token_store

    return token_store(args.file)


def _tokens_add(args: argparse.Namespace) -> int:
    from services.ingest.service.ports import TokenError

    store = _store(args)
    try:
        token = store.add(args.name, args.sources, args.types)
    except TokenError as exc:
        _err(f"error: {exc}")
        return 1
    _err(f"token {args.name!r} created in {store.path}; it is shown only this once:")
    sys.stdout.write(token + "\n")
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    store = _store(args)
    table = Table(title=f"ingest tokens ({store.path})")
    for column in ("name", "sources", "types", "created"):
        table.add_column(column)
    for token in store.list():
        table.add_row(token.name, " ".join(token.sources), " ".join(token.types), token.created)
    Console().print(table)
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    if _store(args).revoke(args.name):
        _err(f"revoked {args.name!r}")
        return 0
    _err(f"error: no token named {args.name!r}")
    return 1


def _import(args: argparse.Namespace) -> int:
    from services.ingest.entrypoints.importer import run_import

    return run_import(args)


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")
