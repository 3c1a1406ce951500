"""What the stack knows of its parts: the state file under the stack's lock, which process
runs a part now (recorded or found and adopted), and the port each part keeps."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iprwatch.stack import kafka, postgres, prometheus
from iprwatch.stack.home import StackHome
from iprwatch.stack.parts import (
    KAFKA,
    PREFERRED_PORTS,
    SUPERVISOR,
    SUPERVISOR_MARKER,
    Say,
    is_kafka,
    node_of,
)
from iprwatch.stack.processes import (
    StackError,
    find_process,
    free_port,
    is_alive,
    port_is_free,
    wait_until,
)
from iprwatch.stack.state import Part, StackState, locked


class StackRecords:
    def __init__(
        self, home: StackHome | None = None, say: Say = print, well_known_ports: bool = True
    ) -> None:
        self.home = home or StackHome.default()
        self.say = say
        self.well_known_ports = well_known_ports
        self._lock_depth = 0

    def _preferred(self, name: str) -> int | None:
        """The stack's usual port for `name` (if free); test stacks take any free port."""
        return PREFERRED_PORTS[name] if self.well_known_ports else None

    # -- state ---------------------------------------------------------------------------
    def _state(self) -> StackState:
        return StackState.load(self.home.state_file)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the stack's lock (re-entrant within this object): one writer of the state."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.home.root.mkdir(parents=True, exist_ok=True)
        with locked(self.home.lock_file):
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    def locate(self, name: str, part: Part) -> int | None:
        """The pid `name` runs as now: the recorded one, or one found running from the stack's
        own data (PostgreSQL's postmaster.pid, the broker's, mail sink's or Prometheus' command
        line naming this stack's files); None if it does not run."""
        if name == "postgres":  # its own data directory says which server runs it
            found = postgres.running(self.home.postgres)
            return found[0] if found else None
        if is_alive(part.pid, part.marker):
            return part.pid
        if is_kafka(name):
            return kafka.running(self._kafka_folder(name))
        if name == "smtp":
            return find_process("iprwatch.stack.mailsink", f"--folder {self.home.mail}")
        if name == "prometheus":
            return prometheus.running(self.home)
        if name == SUPERVISOR:
            return find_process(SUPERVISOR_MARKER, f"--home {self.home.root}")
        return None  # a service is known by its pid only

    def _live(self, state: StackState, name: str) -> Part | None:
        """The part if it runs, its record updated to the process found (adopted)."""
        part = state.parts.get(name)
        if part is None:
            return None
        pid = self.locate(name, part)
        if pid is None:
            return None
        if pid != part.pid:
            self.say(f"{name:<12} found running as pid {pid} (was {part.pid}): adopted")
            part.pid = pid
        if name == "postgres" and (found := postgres.running(self.home.postgres)) is not None:
            part.port = found[1]
        return part

    def _kafka_folder(self, name: str) -> Path:
        """`<home>/kafka` for the single broker, `<home>/kafka/node-i` for a cluster's node i."""
        return self.home.kafka if name == KAFKA else self.home.kafka / f"node-{node_of(name)}"

    def _taken_ports(self, state: StackState) -> set[int]:
        return {p.port for p in state.parts.values()} | {
            int(p.extra["controller_port"])
            for p in state.parts.values()
            if "controller_port" in p.extra
        }

    def _port_for(self, state: StackState, name: str, taken: set[int] | None = None) -> int:
        """The port `name` was given before (a part keeps its port), else a new one."""
        taken = (taken or set()) | self._taken_ports(state)
        part = state.parts.get(name)
        if part is not None and part.port:
            with contextlib.suppress(StackError):  # a moment for a dying process to let go
                wait_until(lambda: port_is_free(part.port), 5, f"port {part.port}")
                return part.port
            port = free_port(self._preferred(name), taken)
            self.say(f"{name:<12} its port {part.port} is taken by another program: using {port}")
            return port
        return free_port(self._preferred(name), taken)

    def _record(self, state: StackState, part: Part) -> None:
        """Record a (re)started part, keeping the restart history of its earlier record."""
        old = state.parts.get(part.name)
        if old is not None:
            part.restarts, part.last_restart, part.last_reason = (
                old.restarts, old.last_restart, old.last_reason
            )  # fmt: skip
        state.parts[part.name] = part

    @contextmanager
    def _step(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"{what} ...")
        yield
        self.say(f"{what}: ready in {time.monotonic() - started:.1f}s")
