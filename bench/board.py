"""Benchmark: rendering the progress board for 38 divisions × 13 indicators.

No service is started: the board is a function of the ledger. Builds the ledgers of every
bundled plan from five years of monthly deltas for each of Chongqing's 38 divisions and every
counted indicator (revenue in each December), then renders the Chongqing 14th plan's board
(assessing 39 × 13 cells with `shared.status.assess`) and one division's page, `--runs` times
each, cold (no answer cache: the service caches each page until the next fold changes the
totals). Prints one JSON object.

    .venv/bin/python bench/board.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLAN = "chongqing-14th-fyp"


def main() -> None:
    from services.indicators.domain.values import Ledgers
    from services.indicators.entrypoints.board import render_board, render_division
    from shared.months import months
    from shared.plans import load_plans

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    plans = load_plans()
    plan = plans.get(PLAN)
    rng = random.Random(1)
    rows = []
    for district in plan.districts:
        for spec in plan.indicators:
            if spec.kind == "ratio":
                continue  # computed from its numerator
            for month in months(date(2021, 1, 1), date(2025, 12, 1)):
                if spec.kind == "annual" and month.month != 12:
                    continue
                amount = rng.randint(0, 10**9) if spec.unit == "cny" else rng.randint(-3, 40)
                rows.append((district.code, spec.key, month, Decimal(amount)))
    started = time.perf_counter()
    ledgers = Ledgers(plans, rows)
    ledger_s = time.perf_counter() - started
    ledger = ledgers[PLAN]
    today = date(2025, 6, 30)  # in progress: paths, forecasts and statuses are all computed
    board, division, size = [], [], 0
    for _ in range(args.runs):
        started = time.perf_counter()
        page = render_board(ledger, plans, today)
        board.append(time.perf_counter() - started)
        size = len(page.encode())
        started = time.perf_counter()
        render_division(ledger, plans, "500112", today)
        division.append(time.perf_counter() - started)
    result = {
        "benchmark": "board",
        "plan": PLAN,
        "divisions": len(plan.districts),
        "indicators": len(plan.indicators),
        "delta_rows": len(rows),
        "ledgers_build_s": round(ledger_s, 3),
        "board_render_s_p50": round(statistics.median(board), 3),
        "board_render_s_max": round(max(board), 3),
        "board_html_bytes": size,
        "division_render_s_p50": round(statistics.median(division), 3),
        "runs": args.runs,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
