"""Prometheus on loopback: the shipped config (deploy/prometheus/) with this machine's targets.

Used by `iprwatch stack up` (an optional part: started when Prometheus is installed or can be)
and by the tests that run every dashboard panel's query against a real Prometheus.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    free_port,
    is_alive,
    spawn,
    wait_until,
)
from iprwatch.stack.state import Part, StackState

PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
CONFIG_FILE = PROMETHEUS_DIR / "prometheus.yml"
PREFERRED_PORT = 9090
MARKER = "prometheus --config.file="
JOBS = ("ingest", "indicators", "alerts")
SWITCH = "IPRWATCH_STACK_PROMETHEUS"  # "0" leaves Prometheus out of `iprwatch stack up`


def wanted() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


def render_config(
    targets: Mapping[str, str],
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    source: Path = CONFIG_FILE,
) -> dict[str, Any]:
    """The shipped config with `targets` (job -> host:port) and absolute rule file paths."""
    config: dict[str, Any] = yaml.safe_load(source.read_text())
    config["global"]["scrape_interval"] = scrape_interval
    config["global"]["evaluation_interval"] = evaluation_interval
    config["rule_files"] = [str((source.parent / f).resolve()) for f in config["rule_files"]]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    if set(jobs) != set(targets):
        raise StackError(f"{source} scrapes {sorted(jobs)}, but targets name {sorted(targets)}")
    for name, target in targets.items():
        jobs[name]["static_configs"] = [{"targets": [target]}]
    return config


def write_config(folder: Path, config: Mapping[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True))
    return path


def start(folder: Path, config_file: Path, port: int, log_file: Path) -> int:
    """Start Prometheus on 127.0.0.1:`port` with its data in `folder`; return once it is ready."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackError("prometheus is not installed: apt-get install -y prometheus")
    command = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--storage.tsdb.retention.time=15d",
        "--web.enable-lifecycle",
    ]
    pid = spawn(command, log_file, cwd=folder)
    wait_until(lambda: is_ready(port), 30, "Prometheus", log_file)
    return pid


def is_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://{LOOPBACK}:{port}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def up(
    home: StackHome,
    state: StackState,
    service_ports: Mapping[str, int],
    say: Callable[[str], None],
    taken: set[int],
    well_known_ports: bool = True,
    interval: str = "15s",
) -> None:
    """The stack's Prometheus part: scrape the running services, keep a live one as it is."""
    part = state.parts.get("prometheus")
    if part is not None and is_alive(part.pid, part.marker):
        say(f"prometheus   already running on port {part.port} (pid {part.pid})")
        return
    try:
        system.ensure([system.PROMETHEUS], say=say)
    except StackError as exc:  # optional part: the rest of the stack works without it
        say(f"prometheus   skipped: {exc}")
        return
    folder = home.root / "prometheus"
    targets = {job: f"{LOOPBACK}:{service_ports[job]}" for job in JOBS}
    config_file = write_config(folder, render_config(targets, interval, interval))
    port = free_port(PREFERRED_PORT if well_known_ports else None, taken)
    log = home.logs / "prometheus.log"
    say(f"starting Prometheus on port {port} ...")
    pid = start(folder, config_file, port, log)
    say(f"Prometheus ready: http://{LOOPBACK}:{port}")
    state.parts["prometheus"] = Part("prometheus", pid, port, MARKER, str(log))
