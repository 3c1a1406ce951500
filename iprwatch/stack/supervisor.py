"""The local stack's supervisor: brings back any part that stops, with backoff, for ever.

`iprwatch stack up` starts it last (`python -m iprwatch.stack.supervisor --home <home>`), and
`iprwatch stack down` stops it first, so that it does not bring back what is being stopped.
Once a second it looks at every part the stack recorded (PostgreSQL, Kafka or each node of a
Kafka cluster, the mail sink, the three services, Prometheus):

- a part that runs under another pid than recorded (PostgreSQL restarted with `pg_ctl` by
  hand, say) is adopted: its record follows the process;
- a part that does not run is started again on its recorded port. The first restart after a
  healthy run (60 s or more) is immediate; a part that keeps dying waits 1, 2, 4 … up to 30 s
  (with jitter) between attempts, and is never given up on. Each restart is counted in the
  state file (`iprwatch stack status` shows the count, the time and the reason) and logged as
  a JSON line in `<home>/logs/supervisor.log`;
- when a service had to move to another port (its own was taken), Prometheus' targets are
  rewritten and Prometheus reloaded.

Why a loop of our own and not supervisord or circus: those run their programs as children in
the foreground and know them only so. PostgreSQL is run through `pg_ctl`, which daemonises (the
postmaster is not our child), and it may be restarted behind the stack's back; the stack must
then adopt the server it finds running from its own data directory, not start a second one
that fails on the lock. The parts also outlive the supervisor (`up` starts them before it, and
they keep running if it is stopped), and the test harness starts the same parts without any
supervisor. A supervision program would own the processes; here the state file does, and the
supervisor is one more reader and writer of it (under the stack's lock). The backoff is the
project's own policy (`shared.supervision.Backoff`, tenacity's exponential wait with jitter).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from tenacity import RetryCallState

from iprwatch.stack import prometheus
from iprwatch.stack.home import StackHome
from iprwatch.stack.stack import HEARTBEAT, Stack, supervised
from iprwatch.stack.state import StackState, locked
from shared.supervision import Backoff
from shared.telemetry import configure_logging

log = logging.getLogger("iprwatch.stack.supervisor")

BACKOFF = Backoff(initial=1.0, maximum=30.0, healthy_after=60.0)
POLL_SECONDS = 0.5


class _Attempt:
    """The little of tenacity's RetryCallState that its wait strategies read."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


@dataclass
class Tracker:
    """When each part may be restarted next: immediately after a healthy run, later and later
    while it keeps failing."""

    backoff: Backoff = BACKOFF
    failures: dict[str, int] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    not_before: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._waits = self.backoff.waits()

    def seen_running(self, name: str, now: float) -> None:
        self.started.setdefault(name, now)
        if now - self.started[name] >= self.backoff.healthy_after:
            self.failures.pop(name, None)

    def due(self, name: str, now: float) -> bool:
        return now >= self.not_before.get(name, 0.0)

    def restarted(self, name: str, now: float, ok: bool) -> float:
        """Note a restart (or a failed attempt); return the wait before the next one."""
        healthy = now - self.started.get(name, now) >= self.backoff.healthy_after
        failures = 0 if healthy and ok else self.failures.get(name, 0)
        failures += 1
        self.failures[name] = failures
        self.started[name] = now
        wait = float(self._waits(cast(RetryCallState, _Attempt(failures))))
        self.not_before[name] = now + wait
        return wait


class Supervisor:
    def __init__(self, stack: Stack, env: dict[str, str], tracker: Tracker | None = None) -> None:
        self.stack = stack
        self.env = env
        self.tracker = tracker or Tracker()
        self.stopping = threading.Event()

    def run(self) -> None:
        log.info("supervising the stack in %s", self.stack.home.root,
                 extra={"home": str(self.stack.home.root), "pid": os.getpid()})  # fmt: skip
        beat = self.stack.home.root / HEARTBEAT
        while not self.stopping.is_set():
            try:
                beat.touch()  # alive and looking (a pass may be skipped while `up` works)
                self.tend()
            except Exception:  # noqa: BLE001 - the supervisor itself never gives up
                log.exception("supervision pass failed; trying again")
            self.stopping.wait(POLL_SECONDS)
        log.info("supervisor stopped", extra={"pid": os.getpid()})

    def tend(self) -> bool:
        """One pass: adopt what moved, restart what is due, keep Prometheus' targets right.
        False if `up` or `down` held the stack's lock (nothing was looked at)."""
        with locked(self.stack.home.lock_file, wait=False) as mine:
            if not mine:  # `up` or `down` is at work: look again later
                return False
            state = StackState.load(self.stack.home.state_file)
            changed = False
            for name in supervised(state):
                if self.stopping.is_set():
                    break
                if name in state.parts:
                    changed |= self._tend_part(state, name)
            if changed:
                state.save(self.stack.home.state_file)
                try:
                    if prometheus.sync_targets(self.stack.home, state):
                        log.warning("prometheus targets rewritten and reloaded")
                except Exception:  # noqa: BLE001 - Prometheus is tended on the next pass
                    log.exception("could not bring Prometheus' targets up to date")
        return True

    def _tend_part(self, state: StackState, name: str) -> bool:
        part = state.parts[name]
        now = time.monotonic()
        pid = self.stack.locate(name, part)
        if pid is not None:
            self.tracker.seen_running(name, now)
            if pid == part.pid:
                return False
            log.warning("%s runs as pid %d (recorded %d): adopted", name, pid, part.pid,
                        extra={"part": name, "pid": pid, "recorded_pid": part.pid})  # fmt: skip
            part.pid = pid
            return True
        if not self.tracker.due(name, now):
            return False
        old_pid, old_port = part.pid, part.port
        try:
            reason = self.stack.restart(state, name, self.env)
        except Exception as exc:  # noqa: BLE001 - logged, retried after the backoff
            wait = self.tracker.restarted(name, time.monotonic(), ok=False)
            log.error(
                "%s could not be restarted; next attempt in %.1f s", name, wait,
                extra={"part": name, "error": str(exc)[-2000:], "retry_in_seconds": wait},
            )  # fmt: skip
            return False
        wait = self.tracker.restarted(name, time.monotonic(), ok=True)
        new = state.parts[name]
        log.warning(
            "%s had stopped (%s): restarted as pid %d on port %d", name, reason, new.pid, new.port,
            extra={"part": name, "reason": reason, "old_pid": old_pid, "pid": new.pid,
                   "port": new.port, "old_port": old_port, "restarts": new.restarts,
                   "next_restart_not_before_seconds": wait},
        )  # fmt: skip
        return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the stack's folder")
    parser.add_argument(
        "--any-ports", action="store_true", help="new ports from the kernel, not the usual ones"
    )
    args = parser.parse_args(argv)
    configure_logging("stack-supervisor")
    stack = Stack(StackHome(args.home.resolve()), say=log.info,
                  well_known_ports=not args.any_ports)  # fmt: skip
    supervisor = Supervisor(stack, dict(os.environ))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: supervisor.stopping.set())
    supervisor.run()


if __name__ == "__main__":
    main()
