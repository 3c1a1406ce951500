"""Benchmark: the simulator's generator and reference fold (the ground truth), no stack.

Generates the default period (2021-01 to the month of yesterday) at `--scale` (default 1, the
real city: about 1.6 million events), folds the ground truth as `iprwatch simulate --dry-run`
does, and prints JSON: events, seconds, events/s, and the process's peak RSS (the target at
scale 1: under 500 MB).

    .venv/bin/python bench/simulator.py [--scale 1] [--statistics]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--statistics", action="store_true")
    args = parser.parse_args()

    from iprwatch.simulator.model import Scenario
    from iprwatch.simulator.runner import count_and_truth, yesterday
    from shared.plan import default_plan_path, load_plan

    plan = load_plan(default_plan_path())
    until = yesterday(plan)
    scenario = Scenario(date(2021, 1, 1), until.replace(day=1), scale=args.scale, until=until)
    scenario = replace(scenario, statistics=args.statistics)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        events, document = count_and_truth(plan, scenario, Path(folder) / "truth.json")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({
        "benchmark": "simulator",
        "scale": args.scale, "period": f"2021-01 to {until:%Y-%m}",
        "statistics": args.statistics,
        "events": events, "unique_acts": document["tally"]["unique_acts"],
        "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
        "events_per_second": round(events / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_loading_the_plan_mib": round(rss_before, 1),
        "target_peak_rss_mib": 500,
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
