"""The stack's optional Prometheus part: started once, kept, shown and stopped by the stack."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import yaml

from iprwatch.stack import prometheus
from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import LOOPBACK, free_port, is_alive
from iprwatch.stack.stack import Stack
from iprwatch.stack.state import Part, StackState

pytestmark = pytest.mark.integration


def test_stack_prometheus_scrapes_the_service_ports_and_stops_with_the_stack(
    tmp_path: Path, promtool: str
) -> None:
    home = StackHome(tmp_path / "stack")
    home.prepare()
    state = StackState()
    ports: dict[str, int] = {}
    for job in prometheus.JOBS:
        ports[job] = free_port(taken=set(ports.values()))
    said: list[str] = []
    taken = set(ports.values())
    prometheus.up(home, state, ports, said.append, taken, well_known_ports=False, interval="1s")
    state.save(home.state_file)
    part = state.parts["prometheus"]
    stack = Stack(home, say=said.append, well_known_ports=False)
    try:
        assert is_alive(part.pid, part.marker)
        config = yaml.safe_load((home.root / "prometheus" / "prometheus.yml").read_text())
        targets = {
            job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
        }
        assert targets == {job: [f"{LOOPBACK}:{port}"] for job, port in ports.items()}
        assert all(Path(rule).is_file() for rule in config["rule_files"])

        base = f"http://{LOOPBACK}:{part.port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            active = httpx.get(f"{base}/api/v1/targets").json()["data"]["activeTargets"]
            if len(active) == 3 and all(t["health"] != "unknown" for t in active):
                break
            time.sleep(0.5)
        assert sorted(t["labels"]["job"] for t in active) == ["alerts", "indicators", "ingest"]
        assert {t["health"] for t in active} == {"down"}  # nothing listens on those ports
        groups = httpx.get(f"{base}/api/v1/rules").json()["data"]["groups"]
        assert sum(len(g["rules"]) for g in groups) == 19

        prometheus.up(home, state, ports, said.append, set(), well_known_ports=False)
        assert said[-1] == f"prometheus   already running on port {part.port} (pid {part.pid})"
        rows = {row[0]: row for row in stack.status()}
        assert rows["prometheus"][1:4] == ("running", part.port, part.pid)

        # a service that had to move: the targets follow it, Prometheus reloads
        for job, port in ports.items():
            state.parts[job] = Part(job, 0, port, "-", "")
        assert not prometheus.sync_targets(home, state)  # nothing changed
        moved = free_port(taken=set(ports.values()) | {part.port})
        state.parts["indicators"].port = moved
        assert prometheus.sync_targets(home, state)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            active = httpx.get(f"{base}/api/v1/targets").json()["data"]["activeTargets"]
            now = {t["labels"]["job"]: t["labels"]["instance"] for t in active}
            if now.get("indicators") == f"{LOOPBACK}:{moved}" and len(now) == 3:
                break
            time.sleep(0.5)
        assert now == {**{job: f"{LOOPBACK}:{port}" for job, port in ports.items()},
                       "indicators": f"{LOOPBACK}:{moved}"}  # fmt: skip
    finally:
        stopped = stack.down()
    assert stopped == ["prometheus"]
    assert not is_alive(part.pid, part.marker)


def test_the_switch_leaves_prometheus_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prometheus.SWITCH, "0")
    assert not prometheus.wanted()
    monkeypatch.setenv(prometheus.SWITCH, "1")
    assert prometheus.wanted()
    monkeypatch.delenv(prometheus.SWITCH)
    assert prometheus.wanted()
