"""`iprwatch stack up|down|status`: the whole system on loopback, every part under one folder.

Order of start: PostgreSQL, Kafka (one broker, or a cluster of three with `--brokers 3`: parts
`kafka-1` … `kafka-3`, each a broker and a controller), the SMTP mail sink, then the three
services, each waited on until it answers, Prometheus, and last the supervisor
(`iprwatch.stack.supervisor`), which restarts any part that dies. `up` twice is safe (live parts
are kept); `down` stops the supervisor first, then, by pid, what the stack recorded in its state
file.

Each part keeps the port it was first given (recorded in the state file), so a restarted service
answers where it did and Prometheus' targets stay right (they are rewritten and reloaded when a
port had to change). A PostgreSQL or Kafka running from the stack's own data directory, however
it was (re)started, is found (`postmaster.pid`, the broker's command line) and adopted.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime

from iprwatch.stack import postgres, prometheus
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.infra import InfraStack
from iprwatch.stack.parts import (
    HEARTBEAT,
    KAFKA,
    SERVICES,
    SUPERVISOR,
    SUPERVISOR_MARKER,
    Endpoints,
    StatusRow,
    is_kafka,
    kafka_count,
    kafka_names,
    launch_service,
    provision_alerts_admin_token,
    provision_ingest_tokens,
    service_addresses,
    service_marker,
    supervised,
    wait_ready,
)
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    exit_reason,
    is_alive,
    spawn,
    stop,
    wait_until,
)
from iprwatch.stack.state import Part, StackState

__all__ = [
    "Stack",
    "HEARTBEAT",
    "KAFKA",
    "SERVICES",
    "SUPERVISOR",
    "SUPERVISOR_MARKER",
    "Endpoints",
    "StatusRow",
    "is_kafka",
    "kafka_count",
    "kafka_names",
    "launch_service",
    "provision_alerts_admin_token",
    "provision_ingest_tokens",
    "service_addresses",
    "service_marker",
    "supervised",
    "wait_ready",
]


class Stack(InfraStack):
    # -- services ------------------------------------------------------------------------
    def up(self, brokers: int | None = None) -> StackState:
        """The whole system: infrastructure (Kafka with `brokers` nodes), the three services
        (each ready), Prometheus, and the supervisor that keeps them running."""
        with self._locked():
            endpoints = self.up_infra(brokers)
            state = self._state()
            env = {**os.environ, **endpoints.service_env()}
            env.update(provision_ingest_tokens(self.home, env))
            env.update(provision_alerts_admin_token(self.home, env))
            ports: dict[str, int] = {}
            for name in SERVICES:
                part = self._live(state, name)
                ports[name] = (
                    part.port if part else self._port_for(state, name, set(ports.values()))
                )
            env.update(service_addresses(ports))
            for name in SERVICES:
                if (part := self._live(state, name)) is not None:
                    self.say(f"{name:<12} already running on port {part.port} (pid {part.pid})")
                    continue
                log = self.home.logs / f"{name}.log"
                with self._step(f"starting {name} on port {ports[name]}"):
                    pid = launch_service(name, env, log)
                    self._record(
                        state, Part(name, pid, ports[name], service_marker(name), str(log))
                    )
                    state.save(self.home.state_file)
                    wait_ready(f"http://{LOOPBACK}:{ports[name]}", pid, name, log)
            if prometheus.wanted():  # optional: scrapes the services, skipped if not installable
                taken = self._taken_ports(state) | set(ports.values())
                prometheus.up(self.home, state, ports, self.say, taken, self.well_known_ports)
                if prometheus.sync_targets(self.home, state):
                    self.say("prometheus   targets rewritten to the services' ports and reloaded")
            state.save(self.home.state_file)
            self._write_env(env, ports)
            self.start_supervisor(state, env)
            state.save(self.home.state_file)
        return state

    def start_supervisor(self, state: StackState, env: dict[str, str]) -> None:
        """Start the supervisor (unless one runs) with the environment the services get."""
        if (part := self._live(state, SUPERVISOR)) is not None:
            self.say(f"supervisor   already running (pid {part.pid})")
            return
        log = self.home.logs / "supervisor.log"
        command = [sys.executable, "-m", SUPERVISOR_MARKER, "--home", str(self.home.root)]
        if not self.well_known_ports:
            command.append("--any-ports")
        beat = self.home.root / HEARTBEAT
        beat.unlink(missing_ok=True)
        pid = spawn(command, log, env=env, cwd=REPO_ROOT)
        self._record(state, Part(SUPERVISOR, pid, 0, SUPERVISOR_MARKER, str(log)))

        def watching() -> bool:  # it runs its loop (its passes wait for our lock to end)
            if not is_alive(pid):
                raise StackError(f"the supervisor exited while starting; see {log}")
            return beat.exists()

        with self._step(f"starting the supervisor (pid {pid}, log {log})"):
            state.save(self.home.state_file)
            wait_until(watching, 60, "the supervisor", log)

    def restart(self, state: StackState, name: str, env: dict[str, str]) -> str:
        """Start `name` again (the supervisor's repair); return the reason it had stopped.

        Infrastructure is waited on until it answers; a service is only launched (on its
        port), so that one slow service does not hold up the repair of the others."""
        part = state.parts[name]
        reason = exit_reason(part.pid)
        if name == "postgres":
            self._up_postgres(state)
        elif name == KAFKA:
            self._up_kafka(state)
        elif is_kafka(name):
            self._up_kafka_cluster(state, kafka_count(state), only=name)
        elif name == "smtp":
            self._up_smtp(state)
        elif name == "prometheus":
            ports = {job: state.parts[job].port for job in prometheus.JOBS if job in state.parts}
            prometheus.up(self.home, state, ports, self.say, self._taken_ports(state),
                          self.well_known_ports)  # fmt: skip
        elif name in SERVICES:
            port = self._port_for(state, name)
            ports = {s: state.parts[s].port for s in SERVICES if s in state.parts} | {name: port}
            service_env = {**env, **service_addresses(ports)}
            log = self.home.logs / f"{name}.log"
            pid = launch_service(name, service_env, log)
            self._record(state, Part(name, pid, port, service_marker(name), str(log)))
        else:
            raise StackError(f"the stack has no part named {name}")
        part = state.parts[name]
        part.restarts += 1
        part.last_restart = datetime.now(UTC).isoformat(timespec="seconds")
        part.last_reason = reason
        return reason

    def _write_env(self, env: dict[str, str], ports: dict[str, int]) -> None:
        keys = sorted(k for k in env if k.startswith("IPRWATCH_") and k != "IPRWATCH_HOME")
        lines = [f"export {k}={env[k]}" for k in keys]
        lines += [f"# {name}: http://{LOOPBACK}:{port}" for name, port in ports.items()]
        self.home.env_file.write_text("\n".join(lines) + "\n")
        self.home.env_file.chmod(0o600)  # it carries the alerts admin token

    def down(self) -> list[str]:
        """Stop the supervisor (so that nothing is brought back), then every part the stack
        recorded, services first; return the names stopped."""
        stopped: list[str] = []
        state = self._state()
        part = state.parts.get(SUPERVISOR)
        # it finishes the repair it is in (holding the lock), then exits
        if (
            part is not None
            and (pid := self.locate(SUPERVISOR, part)) is not None
            and stop(pid, part.marker, timeout=90)
        ):
            stopped.append(SUPERVISOR)
            self.say(f"stopped {SUPERVISOR} (pid {pid})")
        with self._locked():
            state = self._state()
            nodes = [n for n in kafka_names(kafka_count(state) or 1) if n in state.parts]
            for name in nodes if len(nodes) > 1 else []:
                # a cluster's nodes all at once: none waits for a quorum the others' end breaks
                part = state.parts[name]
                if (pid := self.locate(name, part)) is not None:
                    os.kill(pid, part.stop_signal)
            for name in ("prometheus", *SERVICES, "smtp", *nodes, "postgres"):
                part = state.parts.get(name)
                if part is None or (pid := self.locate(name, part)) is None:
                    continue
                if stop(pid, part.marker, sig=part.stop_signal, timeout=60):
                    stopped.append(name)
                    self.say(f"stopped {name} (pid {pid})")
            # The records stay: `status` shows them stopped, the next `up` reuses their ports.
            state.save(self.home.state_file)
        return stopped

    def clean(self) -> None:
        """Stop everything, then delete the stack's data (PostgreSQL's cluster wherever it is)."""
        self.down()
        postgres.remove_cluster(self.home.postgres)
        shutil.rmtree(self.home.root, ignore_errors=True)
        self.say(f"removed {self.home.root}")

    def status(self) -> list[StatusRow]:
        """Every part of the stack: running or not, its port, pid, log and restarts."""
        state = self._state()
        rows: list[StatusRow] = []
        for name in (SUPERVISOR, *supervised(state)):
            part = state.parts.get(name)
            if part is None:
                rows.append(StatusRow(name, "not started", None, None, ""))
                continue
            pid = self.locate(name, part)
            port = part.port or None
            if name == "postgres" and (found := postgres.running(self.home.postgres)) is not None:
                port = found[1]
            last = f"{part.last_restart} {part.last_reason}".strip()
            rows.append(
                StatusRow(name, "running" if pid else "stopped", port, pid, part.log,
                          part.restarts, last)
            )  # fmt: skip
        return rows
