"""`iprwatch`: run a service, or manage the local stack.

iprwatch ingest | indicators | alerts      run one service in the foreground
iprwatch stack up | down | status          the whole system on loopback
iprwatch report [--plan P] [--month M]      the monthly bulletin (PDF and HTML)
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rich.console import Console
from rich.table import Table

from iprwatch import local_env
from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import StackError
from iprwatch.stack.stack import Stack
from shared.unavailable import describe

console = Console(stderr=True)

# Each service (and the simulator) registers its own commands: `add_commands(subparsers)`.
COMMAND_MODULES = (
    "services.ingest.entrypoints.cli",
    "services.indicators.entrypoints.cli",
    "services.alerts.entrypoints.cli",
    "iprwatch.simulator.cli",
    "iprwatch.report.cli",
)


def _say(message: str) -> None:
    console.print(f"[dim]·[/dim] {message}", highlight=False)


def _stack_up(args: argparse.Namespace) -> int:
    stack = Stack(say=_say)
    stack.up(brokers=args.brokers)
    _print_status(stack)
    console.print(f"environment for other shells: [bold]source {stack.home.env_file}[/bold]")
    return 0


def _stack_down(_: argparse.Namespace) -> int:
    stopped = Stack(say=_say).down()
    console.print(f"stopped {len(stopped)} part(s)" if stopped else "nothing was running")
    return 0


def _stack_clean(_: argparse.Namespace) -> int:
    Stack(say=_say).clean()
    return 0


def _stack_status(_: argparse.Namespace) -> int:
    _print_status(Stack(say=_say))
    return 0


def _print_status(stack: Stack) -> None:
    table = Table(title=f"IPR Watch stack ({stack.home.root})")
    for column in ("part", "state", "port", "pid", "restarts", "last restart", "log"):
        table.add_column(column)
    for row in stack.status():
        colour = {"running": "green", "stopped": "red"}.get(row.state, "yellow")
        table.add_row(
            row.name, f"[{colour}]{row.state}[/{colour}]", str(row.port or "-"),
            str(row.pid or "-"), str(row.restarts), row.last_restart or "-", row.log,
        )  # fmt: skip
    Console().print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iprwatch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(commands)
    stack = commands.add_parser("stack", help="the local stack: Kafka, PostgreSQL, SMTP, services")
    stack_commands = stack.add_subparsers(dest="stack_command", required=True)
    up = stack_commands.add_parser("up", help="start every part (safe to repeat)")
    up.add_argument(
        "--brokers", type=int, choices=(1, 3, 5), default=None,
        help="Kafka nodes (each a broker and a controller); 3 or 5 replicate every topic 3 "
        "times, min.insync.replicas 2. Default: as the stack had, 1 for a new stack",
    )  # fmt: skip
    up.set_defaults(handler=_stack_up)
    stack_commands.add_parser("down", help="stop what `up` started").set_defaults(
        handler=_stack_down
    )
    stack_commands.add_parser("clean", help="stop everything and delete its data").set_defaults(
        handler=_stack_clean
    )
    stack_commands.add_parser("status", help="each part, its port and pid").set_defaults(
        handler=_stack_status
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "stack":  # the stack sets its parts' settings itself
        local_env.adopt(StackHome.default().env_file)
    try:
        code: int = args.handler(args)
    except StackError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    except Exception as exc:
        message = describe(exc)
        if message is None:
            raise
        console.print(f"[red]error:[/red] {message}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
