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
    find_process,
    free_port,
    is_alive,
    port_is_free,
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


def config_path(home: StackHome) -> Path:
    return home.root / "prometheus" / "prometheus.yml"


def running(home: StackHome) -> int | None:
    """The pid of a Prometheus running with this stack's config, whoever started it."""
    return find_process(f"--config.file={config_path(home)}")


def sync_targets(home: StackHome, state: StackState) -> bool:
    """Point the running Prometheus at the ports the services have now: rewrite its config
    and reload it (`/-/reload`) when a target changed. True if it did."""
    part = state.parts.get("prometheus")
    path = config_path(home)
    if part is None or not path.exists() or not all(job in state.parts for job in JOBS):
        return False
    current: dict[str, Any] = yaml.safe_load(path.read_text())
    wanted_targets = {job: f"{LOOPBACK}:{state.parts[job].port}" for job in JOBS}
    present = {
        job["job_name"]: job["static_configs"][0]["targets"][0] for job in current["scrape_configs"]
    }
    if present == wanted_targets:
        return False
    interval = current["global"]["scrape_interval"]
    write_config(path.parent, render_config(wanted_targets, interval, interval))
    try:
        httpx.post(f"http://{LOOPBACK}:{part.port}/-/reload", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:  # a stopped Prometheus reads the new file when it starts
        if is_alive(part.pid, part.marker):
            raise StackError(f"Prometheus did not reload {path}: {exc}") from exc
    return True


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
    if part is not None and not is_alive(part.pid, part.marker) and (pid := running(home)):
        say(f"prometheus   found running as pid {pid} (was {part.pid}): adopted")
        part.pid = pid
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
    if part is not None and port_is_free(part.port):
        port = part.port  # it keeps its address
    else:
        port = free_port(PREFERRED_PORT if well_known_ports else None, taken)
    log = home.logs / "prometheus.log"
    say(f"starting Prometheus on port {port} ...")
    pid = start(folder, config_file, port, log)
    say(f"Prometheus ready: http://{LOOPBACK}:{port}")
    new = Part("prometheus", pid, port, MARKER, str(log))
    if part is not None:
        new.restarts, new.last_restart, new.last_reason = (
            part.restarts, part.last_restart, part.last_reason
        )  # fmt: skip
    state.parts["prometheus"] = new
