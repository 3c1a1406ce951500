"""The whole pipeline under the simulator: events/s sent to ingest and folded to the truth.

Starts a private stack under .iprwatch/bench/simulation (any free ports), sends a simulation
(2021-01 to last month; `--scale`, default 0.05), waits until every indicator value on the API
and on /metrics equals the ground truth, prints JSON, and stops the stack.

    .venv/bin/python bench/simulation.py [--scale 0.05] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from iprwatch.simulator.check import wait_caught_up
from iprwatch.simulator.client import SendOptions, send
from iprwatch.simulator.generator import generate
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.runner import count_and_truth, yesterday
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import LOOPBACK
from iprwatch.stack.stack import Stack
from shared.plan import default_plan_path, load_plan


def _remove(home: StackHome) -> None:
    """A fresh start: the folder, and the PostgreSQL cluster if it was moved out of it."""
    location = home.postgres / "location"
    if location.exists():
        moved = Path(location.read_text().strip())
        if moved.parent == Path("/var/tmp/iprwatch-postgres"):  # noqa: S108 - the stack's place
            shutil.rmtree(moved, ignore_errors=True)
    shutil.rmtree(home.root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    os.environ.setdefault("IPRWATCH_STACK_PROMETHEUS", "0")
    home = StackHome(REPO_ROOT / ".iprwatch" / "bench" / "simulation")
    _remove(home)
    stack = Stack(home, say=lambda _: None, well_known_ports=False)
    try:
        state = stack.up()
        url = {n: f"http://{LOOPBACK}:{state.parts[n].port}" for n in ("ingest", "indicators")}
        plan = load_plan(default_plan_path())
        until = yesterday(plan)
        scenario = Scenario(date(2021, 1, 1), until.replace(day=1), scale=args.scale,
                            until=until)  # fmt: skip
        started = time.monotonic()
        events, truth = count_and_truth(plan, scenario, home.root / "truth.json")
        generated = time.monotonic() - started
        token = (home.root / "simulator.token").read_text().strip()
        options = SendOptions(url=url["ingest"], token=token, batch_size=args.batch,
                              concurrency=args.concurrency)  # fmt: skip
        sent_at = time.monotonic()
        report = asyncio.run(send(generate(plan, scenario), options))
        left = asyncio.run(wait_caught_up(url["indicators"], truth, timeout=3600, poll=0.5))
        caught_up = time.monotonic() - sent_at
        result = {
            "benchmark": "simulation",
            "scale": args.scale,
            "events": events,
            "unique_acts": truth["tally"]["unique_acts"],
            "generate_and_truth_seconds": round(generated, 2),
            "send_seconds": round(report.seconds, 2),
            "sent_events_per_second": round(report.events_per_second),
            "retries": report.retries,
            "caught_up_seconds": round(caught_up, 2),
            "end_to_end_events_per_second": round(events / caught_up),
            "equal_to_truth": not left,
            "sender_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
        }
        sys.stdout.write(json.dumps(result) + "\n")
        return 0 if not left else 1
    finally:
        if not args.keep:
            stack.down()


if __name__ == "__main__":
    sys.exit(main())
