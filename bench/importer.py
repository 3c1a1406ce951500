"""Benchmark: `iprwatch import --mapping cnipa-patent-grants` on 100,000 rows.

Makes a patent-grant export of `--rows` rows (invention patents of the 38 districts, the
columns a search system exports) as `.xlsx` and as `.csv`, twice: with a 行政区划代码 column
(address resolution off: the code wins) and with only the holder's address (resolution on;
every address distinct, so cpca's answers are not reused from the cache: the worst case).
Each case runs `--dry-run` (read, map, resolve, validate against the contract and the plan)
in a process of its own, which reports rows/s and its peak RSS. `--with-ingest` adds one real
import of the CSV with codes through the ingest service on a private Kafka broker.

Prints one JSON object.

    .venv/bin/python bench/importer.py [--rows 100000] [--with-ingest]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["申请号", "发明名称", "专利类型", "申请日", "授权公告日", "申请人", "申请人地址",
          "行政区划代码", "高价值"]  # fmt: skip
STREETS = ["人民路", "解放路", "建设大道", "滨江路", "科技大道", "工业园路", "学府大道", "龙湖路"]


def _rows(count: int, with_codes: bool) -> Any:
    from shared.plan import default_plan_path, load_plan

    districts = load_plan(default_plan_path()).districts
    for n in range(count):
        d = districts[n % len(districts)]
        number = f"2{n % 5:03d}1{n:07d}.{n % 10}"
        address = f"重庆市{d.name_zh}{STREETS[n % len(STREETS)]}{n % 997 + 1}号{n // 997}栋"
        grant = f"202{n % 5}-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        yield [number, f"一种方法{n}", "发明", "2019-01-01", grant, f"重庆某公司{n % 5000}",
               address, d.code if with_codes else "", "是" if n % 7 == 0 else "否"]  # fmt: skip


def make_files(folder: Path, rows: int) -> dict[str, Path]:
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for codes in (True, False):
        tag = "codes" if codes else "addresses"
        csv_file = folder / f"grants-{tag}-{rows}.csv"
        xlsx_file = folder / f"grants-{tag}-{rows}.xlsx"
        if not csv_file.exists():
            with csv_file.open("w", encoding="gb18030", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(HEADER)
                writer.writerows(_rows(rows, codes))
        if not xlsx_file.exists():
            book = Workbook(write_only=True)
            sheet = book.create_sheet("授权清单")
            sheet.append(HEADER)
            for row in _rows(rows, codes):
                sheet.append(row)
            book.save(xlsx_file)
        files[f"xlsx_{tag}"] = xlsx_file
        files[f"csv_{tag}"] = csv_file
    return files


def measure(file: Path, url: str | None, token: str | None) -> dict[str, Any]:
    """One import in this process: rows/s and this process's peak RSS."""
    from services.ingest.bootstrap import import_file
    from services.ingest.service.importing import ImportOptions

    options = ImportOptions(path=file, url=url or "http://127.0.0.1:9", token=token,
                            mapping="cnipa-patent-grants", dry_run=url is None,
                            rejected_path=file.with_suffix(".rejected.ndjson"),
                            progress=False, batch=5000)  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    summary = asyncio.run(import_file(options))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "file": file.name, "bytes": file.stat().st_size, "seconds": round(seconds, 2),
        "rows_per_second": round(summary.rows / seconds), "cpu_seconds": round(cpu, 2),
        "summary": summary.to_json(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }  # fmt: skip


def _child(file: Path, url: str | None = None, token: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", str(file)]
    if url and token:
        command += ["--url", url, "--token", token]
    out = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _through_ingest(file: Path) -> dict[str, Any]:
    from iprwatch.stack.home import REPO_ROOT, StackHome
    from iprwatch.stack.processes import LOOPBACK, free_port, stop
    from iprwatch.stack.stack import Stack, launch_service, service_marker, wait_ready
    from services.ingest.adapters.tokens import TokenStore

    home = StackHome(REPO_ROOT / ".iprwatch" / "bench" / "importer")
    stack = Stack(home, say=lambda m: print(f"[stack] {m}", file=sys.stderr),
                  well_known_ports=False)  # fmt: skip
    endpoints = stack.up_infra()
    try:
        tokens_file = home.root / "bench-tokens.json"
        tokens_file.unlink(missing_ok=True)
        token = TokenStore(tokens_file).add("bench", ["*"], ["*"])
        port = free_port()
        env = {**os.environ, **endpoints.service_env(), "IPRWATCH_INGEST_PORT": str(port),
               "IPRWATCH_INGEST_TOKENS_FILE": str(tokens_file),
               "IPRWATCH_KAFKA_EVENTS_TOPIC": f"bench.importer.{int(time.time())}",
               "IPRWATCH_INGEST_LOG_LEVEL": "WARNING"}  # fmt: skip
        pid = launch_service("ingest", env, home.logs / "ingest-bench.log")
        url = f"http://{LOOPBACK}:{port}"
        try:
            wait_ready(url, pid, "ingest", home.logs / "ingest-bench.log")
            return _child(file, url, token)
        finally:
            stop(pid, service_marker("ingest"), timeout=20)
    finally:
        stack.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--with-ingest", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.url, args.token)))
        return
    folder = ROOT / ".iprwatch" / "bench" / "importer-files"
    made = time.perf_counter()
    files = make_files(folder, args.rows)
    made_seconds = time.perf_counter() - made
    load_before = os.getloadavg()
    cases = {name: _child(file) for name, file in files.items()}
    result: dict[str, Any] = {
        "benchmark": "importer",
        "rows": args.rows,
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg()},
        "files_made_seconds": round(made_seconds, 1),
        "dry_run": cases,
    }  # fmt: skip
    if args.with_ingest:
        result["through_ingest"] = _through_ingest(files["csv_codes"])
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
