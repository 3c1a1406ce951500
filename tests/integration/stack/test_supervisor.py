"""The stack's supervisor: a killed service comes back on its port, counted in `status`; a
PostgreSQL restarted behind the stack's back is adopted, not started twice, and a dead one is
started again; a part that keeps dying waits longer each time; `down` stops the supervisor
before anything else, so nothing is brought back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from iprwatch.stack import postgres
from iprwatch.stack.home import StackHome
from iprwatch.stack.processes import LOOPBACK, find_process, free_port, is_alive
from iprwatch.stack.stack import (
    Endpoints,
    Stack,
    StatusRow,
    launch_service,
    provision_ingest_tokens,
    service_marker,
    wait_ready,
)
from iprwatch.stack.state import Part, StackState
from iprwatch.stack.supervisor import Supervisor, Tracker
from iprwatch.stack.system import postgres_bindir
from shared.settings import KafkaSettings
from tests.support.services import service_env

pytestmark = pytest.mark.integration


def _row(stack: Stack, name: str) -> StatusRow:
    return {row.name: row for row in stack.status()}[name]


def _back(stack: Stack, url: str, old_pid: int, timeout: float = 60) -> tuple[StatusRow, float]:
    """Wait until the part runs under a new pid and answers /readyz; return its row, seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        row = _row(stack, "ingest")
        if row.pid not in (None, old_pid):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return row, time.monotonic() - started
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"ingest did not come back within {timeout}s: {_row(stack, 'ingest')}")


def test_a_killed_service_comes_back_on_its_port_and_status_counts_it(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> None:
    home = StackHome(tmp_path / "stack")
    home.prepare()
    port = free_port()
    env = service_env(infra, kafka_settings, db_schema, {"ingest": port})
    env.update(provision_ingest_tokens(home, env))
    log = home.logs / "ingest.log"
    first = launch_service("ingest", env, log)
    url = f"http://{LOOPBACK}:{port}"
    state = StackState({"ingest": Part("ingest", first, port, service_marker("ingest"), str(log))})
    said: list[str] = []
    stack = Stack(home, say=said.append, well_known_ports=False)
    try:
        wait_ready(url, first, "ingest", log)
        stack.start_supervisor(state, env)
        state.save(home.state_file)
        assert _row(stack, "supervisor").state == "running"
        assert _row(stack, "ingest")[1:6] == ("running", port, first, str(log), 0)

        os.kill(first, signal.SIGKILL)  # started here: the supervisor only sees it gone
        row, _ = _back(stack, url, first)
        assert (row.state, row.port, row.restarts) == ("running", port, 1)
        assert row.last_restart.endswith(f"not running (pid {first} gone)")

        second = row.pid
        assert second is not None
        os.kill(second, signal.SIGKILL)  # the supervisor's own child: it knows how it ended
        row, _ = _back(stack, url, second)
        assert (row.state, row.port, row.restarts) == ("running", port, 2)
        assert row.last_restart.endswith("killed by SIGKILL")
        third = row.pid
        assert third is not None
        supervisor_log = (home.logs / "supervisor.log").read_text()
        assert supervisor_log.count("had stopped") == 2
        assert f'"pid": {third}' in supervisor_log
    finally:
        stopped = stack.down()
    assert stopped == ["supervisor", "ingest"]
    time.sleep(2)  # nothing brings it back once `down` has stopped the supervisor
    assert _row(stack, "ingest")[1:3] == ("stopped", port)
    assert not is_alive(third)
    assert _row(stack, "supervisor").state == "stopped"


def test_postgres_restarted_by_hand_is_adopted_and_a_dead_one_started_on_its_port(
    tmp_path: Path,
) -> None:
    home = StackHome(tmp_path / "stack")
    home.prepare()
    port = free_port()
    log = home.logs / "postgres.log"
    pid = postgres.start(home.postgres, port, log)
    state = StackState(
        {"postgres": Part("postgres", pid, port, postgres.MARKER, str(log), stop_signal=2)}
    )
    state.save(home.state_file)
    stack = Stack(home, say=lambda _: None, well_known_ports=False)
    try:
        data = postgres.data_dir(home.postgres)
        bindir = postgres_bindir()
        assert bindir is not None
        # as someone would by hand; -l: the server must not hold on to this test's output
        command = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "by-hand.log"),
                   "-m", "immediate", "-w", "restart"]  # fmt: skip
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=120)  # noqa: S603
        found = postgres.running(home.postgres)
        assert found is not None
        assert found[0] != pid
        assert found[1] == port
        assert _row(stack, "postgres")[1:4] == ("running", port, found[0])

        supervisor = Supervisor(stack, dict(os.environ))
        supervisor.tend()  # one pass: adopts, restarts nothing
        part = StackState.load(home.state_file).parts["postgres"]
        assert (part.pid, part.port, part.restarts) == (found[0], port, 0)

        os.kill(found[0], signal.SIGKILL)  # dead now: started again (pg_ctl) on its port
        deadline = time.monotonic() + 60
        while (again := postgres.running(home.postgres)) is None or again[0] == found[0]:
            assert time.monotonic() < deadline, "PostgreSQL was not started again"
            supervisor.tend()
            time.sleep(0.2)
        part = StackState.load(home.state_file).parts["postgres"]
        assert (part.pid, part.port, part.restarts) == (again[0], port, 1)
        assert part.last_reason == f"not running (pid {found[0]} gone)"
    finally:
        stopped = stack.down()
    assert stopped == ["postgres"]
    assert postgres.running(home.postgres) is None
    postgres.remove_cluster(home.postgres)


def test_the_backoff_grows_while_a_part_keeps_failing_and_resets_after_a_healthy_run() -> None:
    tracker = Tracker()
    assert tracker.due("indicators", 0.0)  # the first restart is immediate
    waits = [tracker.restarted("indicators", float(t), ok=True) for t in range(6)]
    lower = [1, 2, 4, 8, 16, 30]
    assert all(low <= wait <= low + 1 for low, wait in zip(lower, waits, strict=True)), waits
    assert not tracker.due("indicators", 5.0 + waits[-1] - 0.1)
    assert tracker.due("indicators", 5.0 + waits[-1])
    tracker.seen_running("indicators", 5.0 + 60)  # ran a minute: healthy again
    assert 1 <= tracker.restarted("indicators", 70.0, ok=True) <= 2


def test_the_mail_sink_is_restarted_on_its_port_with_backoff_while_it_keeps_dying(
    tmp_path: Path,
) -> None:
    home = StackHome(tmp_path / "stack")
    home.prepare()
    port = free_port()
    gone = subprocess.Popen(["true"])  # noqa: S607 - a pid that has ended
    gone.wait()
    state = StackState({"smtp": Part("smtp", gone.pid, port, "iprwatch.stack.mailsink", "")})
    state.save(home.state_file)
    stack = Stack(home, say=lambda _: None, well_known_ports=False)
    supervisor = Supervisor(stack, dict(os.environ))
    try:
        assert supervisor.tend()
        first = _row(stack, "smtp")
        assert (first.state, first.port, first.restarts) == ("running", port, 1)
        assert first.pid is not None
        assert stack.locate("smtp", state.parts["smtp"]) == first.pid  # found by its folder

        os.kill(first.pid, signal.SIGKILL)
        while is_alive(first.pid):
            time.sleep(0.05)
        supervisor.tend()  # it died within a second of its restart: not yet
        assert _row(stack, "smtp")[1:2] == ("stopped",)
        time.sleep(2.1)  # the first wait is 1 to 2 s
        supervisor.tend()
        second = _row(stack, "smtp")
        assert (second.state, second.port, second.restarts) == ("running", port, 2)
        assert second.last_restart.endswith("killed by SIGKILL")
    finally:
        stopped = stack.down()
    assert stopped == ["smtp"]


def test_find_process_knows_a_process_by_its_command_line(tmp_path: Path) -> None:
    marker = f"--marker={tmp_path}"
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "import time; time.sleep(60)", marker]
    )
    try:
        deadline = time.monotonic() + 10
        while find_process("time.sleep(60)", marker) != child.pid:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert find_process("time.sleep(60)", f"{marker}-other") is None
    finally:
        child.kill()
        child.wait()
    assert find_process("time.sleep(60)", marker) is None
