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

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

import httpx

from iprwatch.stack import kafka, postgres, prometheus, system
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    exit_reason,
    find_process,
    free_port,
    is_alive,
    port_answers,
    port_is_free,
    spawn,
    stop,
    wait_until,
)
from iprwatch.stack.state import Part, StackState, locked
from services.ingest.adapters.tokens import TokenStore, ensure_token
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings

Say = Callable[[str], None]

INFRA = ("postgres", "kafka", "smtp")
SERVICES = ("ingest", "indicators", "alerts")
SUPERVISED = (*INFRA, *SERVICES, "prometheus")  # in the order they are (re)started
KAFKA = "kafka"  # the single broker; the nodes of a cluster are kafka-1, kafka-2, ...
SUPERVISOR = "supervisor"
SUPERVISOR_MARKER = "iprwatch.stack.supervisor"
HEARTBEAT = "supervisor.heartbeat"  # touched by the supervisor at each turn of its loop
PREFERRED_PORTS = {
    "postgres": 15432,
    "kafka": 19092,
    "kafka-controller": 19093,  # a cluster's node i: 19092 + 2 (i - 1) and the port above it
    "smtp": 2525,
    "ingest": 8001,
    "indicators": 8002,
    "alerts": 8003,
}


@dataclass(frozen=True)
class Endpoints:
    """How to reach the infrastructure parts of a running stack."""

    kafka_bootstrap: str
    postgres_dsn: str
    smtp_port: int
    brokers: int = 1

    @property
    def kafka(self) -> KafkaSettings:
        """The settings of the stack's Kafka: where, and the replication its topics get."""
        return KafkaSettings(
            bootstrap_servers=self.kafka_bootstrap,
            replication_factor=kafka.replication_factor(self.brokers),
            min_insync_replicas=kafka.min_insync_replicas(self.brokers),
        )

    def service_env(self) -> dict[str, str]:
        return {
            "IPRWATCH_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "IPRWATCH_KAFKA_REPLICATION_FACTOR": str(kafka.replication_factor(self.brokers)),
            "IPRWATCH_KAFKA_MIN_INSYNC_REPLICAS": str(kafka.min_insync_replicas(self.brokers)),
            "IPRWATCH_PG_DSN": self.postgres_dsn,
            "IPRWATCH_SMTP_HOST": LOOPBACK,
            "IPRWATCH_SMTP_PORT": str(self.smtp_port),
        }


class StatusRow(NamedTuple):
    name: str
    state: str
    port: int | None
    pid: int | None
    log: str
    restarts: int = 0
    last_restart: str = ""  # "<ISO time> <reason>" of the supervisor's last restart


class Stack:
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

    # -- infrastructure ------------------------------------------------------------------
    def up_infra(self, brokers: int | None = None) -> Endpoints:
        """Start (or keep) PostgreSQL, Kafka (`brokers` nodes; by default as many as the stack
        had, one for a new stack) and the mail sink; return how to reach them."""
        system.ensure(
            [system.JAVA, system.MAVEN, system.POSTGRES, system.CJK_FONT, system.PANGO],
            say=self.say,
        )  # the font: the alerts service draws charts
        self.home.prepare()
        with self._locked():
            state = self._state()
            recorded = kafka_count(state)
            brokers = brokers or recorded or 1
            if recorded and brokers != recorded:
                raise StackError(
                    f"this stack's Kafka has {recorded} broker(s), not {brokers}: stop and delete "
                    f"it first (`iprwatch stack clean`) to start it with {brokers}"
                )
            self._up_postgres(state)
            self._up_kafka(state, brokers)
            self._up_smtp(state)
            state.save(self.home.state_file)
        endpoints = self.endpoints(state)
        settings = endpoints.kafka
        if brokers > 1:
            with self._step(f"waiting for the {brokers} Kafka brokers to join"):
                asyncio.run(kafka.wait_for_brokers(settings.bootstrap_servers, brokers))
        topics = [settings.events_topic, settings.indicators_topic, settings.dead_letter_topic]
        asyncio.run(ensure_topics(settings, topics))
        return endpoints

    def endpoints(self, state: StackState | None = None) -> Endpoints:
        state = state or self._state()
        nodes = kafka_names(kafka_count(state) or 1)
        try:
            return Endpoints(
                kafka_bootstrap=",".join(f"{LOOPBACK}:{state.parts[n].port}" for n in nodes),
                postgres_dsn=postgres.dsn(state.parts["postgres"].port),
                smtp_port=state.parts["smtp"].port,
                brokers=len(nodes),
            )
        except KeyError as exc:
            raise StackError(f"the stack has no {exc.args[0]}: run `iprwatch stack up`") from exc

    def _kafka_folder(self, name: str) -> Path:
        """`<home>/kafka` for the single broker, `<home>/kafka/node-i` for a cluster's node i."""
        return self.home.kafka if name == KAFKA else self.home.kafka / f"node-{node_of(name)}"

    def _up_postgres(self, state: StackState) -> None:
        if (part := self._live(state, "postgres")) is not None:
            self.say(f"postgres     already running on port {part.port} (pid {part.pid})")
            return
        port = self._port_for(state, "postgres")
        log = self.home.logs / "postgres.log"
        with self._step(f"starting PostgreSQL on port {port}"):
            pid = postgres.start(self.home.postgres, port, log)
            postgres.create_database(port)
        self._record(
            state,
            Part("postgres", pid, port, postgres.MARKER, str(log), stop_signal=int(signal.SIGINT)),
        )

    def _up_kafka(self, state: StackState, brokers: int = 1) -> None:
        if brokers > 1:
            self._up_kafka_cluster(state, brokers)
            return
        if (part := self._live(state, "kafka")) is not None:
            self.say(f"kafka        already running on port {part.port} (pid {part.pid})")
            return
        taken = self._taken_ports(state)
        old = state.parts.get("kafka")
        if old is not None:
            # The KRaft metadata remembers its listeners: the data was made with these ports.
            ports = kafka.KafkaPorts(old.port, int(old.extra["controller_port"]))
            busy = [p for p in (ports.broker, ports.controller) if not port_is_free(p)]
            if busy:
                raise StackError(
                    f"Kafka's ports {busy} are taken by another program; free them, "
                    f"or remove {self.home.kafka} to start Kafka afresh on new ports"
                )
        else:
            broker = free_port(self._preferred("kafka"), taken)
            ports = kafka.KafkaPorts(
                broker, free_port(self._preferred("kafka-controller"), taken | {broker})
            )
        log = self.home.logs / "kafka.log"
        libs = kafka.ensure_jars(self.home.kafka, progress=self.say)
        properties = kafka.configure(self.home.kafka, ports)
        with self._step(f"starting Kafka on port {ports.broker}"):
            kafka.format_storage(self.home.kafka, libs, properties)
            pid = kafka.start(self.home.kafka, libs, properties, ports, log)
        self._record(
            state,
            Part("kafka", pid, ports.broker, kafka.MARKER, str(log),
                 extra={"controller_port": str(ports.controller)}),
        )  # fmt: skip

    def _up_kafka_cluster(self, state: StackState, brokers: int, only: str | None = None) -> None:
        """Start the nodes of the cluster that do not run (or only node `only`), then wait
        until each started one listens. A node keeps its ports: the quorum names them."""
        names = kafka_names(brokers)
        taken = self._taken_ports(state)
        nodes: dict[int, kafka.KafkaPorts] = {}
        cluster = ""
        for name in names:
            node = node_of(name)
            if (old := state.parts.get(name)) is not None:
                nodes[node] = kafka.KafkaPorts(old.port, int(old.extra["controller_port"]))
                cluster = cluster or old.extra.get("cluster_id", "")
                continue
            preferred = self._preferred("kafka")
            preferred = preferred + 2 * (node - 1) if preferred else None
            broker = free_port(preferred, taken)
            controller = free_port(preferred + 1 if preferred else None, taken | {broker})
            taken |= {broker, controller}
            nodes[node] = kafka.KafkaPorts(broker, controller)
        libs = kafka.ensure_jars(self.home.kafka, progress=self.say)
        spec = kafka.Cluster(self.home.kafka, libs, nodes, cluster or kafka.cluster_id())
        started: list[int] = []
        for name in names:
            node = node_of(name)
            if only is not None and name != only:
                continue
            if (part := self._live(state, name)) is not None:
                self.say(f"{name:<12} already running on port {part.port} (pid {part.pid})")
                continue
            ports = nodes[node]
            pair = (ports.broker, ports.controller)
            with contextlib.suppress(StackError):  # a moment for a killed node to let go
                wait_until(partial(ports_are_free, pair), 10, f"node {node}'s ports")
            if name in state.parts and (busy := [p for p in pair if not port_is_free(p)]):
                raise StackError(
                    f"the ports {busy} of Kafka node {node} are taken by another program; free "
                    f"them, or remove {self.home.kafka} to start Kafka afresh on new ports"
                )
            log = self.home.logs / f"{name}.log"
            pid = spec.launch(node, log)
            self._record(
                state,
                Part(name, pid, ports.broker, kafka.MARKER, str(log),
                     extra={"controller_port": str(ports.controller), "node_id": str(node),
                            "cluster_id": spec.cluster}),
            )  # fmt: skip
            started.append(node)
        if started:
            ports_text = ", ".join(str(nodes[n].broker) for n in started)
            with self._step(f"starting Kafka node(s) {started} on port(s) {ports_text}"):
                for node in started:  # each listens once a quorum of controllers runs
                    self._wait_listening(f"{KAFKA}-{node}", nodes[node].broker)

    def _wait_listening(self, name: str, port: int) -> None:
        wait_until(lambda: port_answers(port), 120, name, self.home.logs / f"{name}.log")

    def _up_smtp(self, state: StackState) -> None:
        if (part := self._live(state, "smtp")) is not None:
            self.say(f"smtp         already running on port {part.port} (pid {part.pid})")
            return
        port = self._port_for(state, "smtp")
        log = self.home.logs / "smtp.log"
        command = [sys.executable, "-m", "iprwatch.stack.mailsink", "--port", str(port),
                   "--folder", str(self.home.mail)]  # fmt: skip
        with self._step(f"starting the SMTP mail sink on port {port}"):
            pid = spawn(command, log, cwd=REPO_ROOT)
            wait_until(lambda: port_answers(port), 20, "SMTP mail sink", log)
        self._record(state, Part("smtp", pid, port, "iprwatch.stack.mailsink", str(log)))

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

    @contextmanager
    def _step(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"{what} ...")
        yield
        self.say(f"{what}: ready in {time.monotonic() - started:.1f}s")


def kafka_names(brokers: int) -> list[str]:
    """The parts Kafka runs as: `kafka` alone, `kafka-1` … `kafka-n` in a cluster."""
    return [KAFKA] if brokers == 1 else [f"{KAFKA}-{i}" for i in range(1, brokers + 1)]


def ports_are_free(ports: tuple[int, ...]) -> bool:
    return all(port_is_free(port) for port in ports)


def is_kafka(name: str) -> bool:
    return name == KAFKA or (name.startswith(f"{KAFKA}-") and name[len(KAFKA) + 1 :].isdigit())


def node_of(name: str) -> int:
    """A cluster node's id: `kafka-2` is node 2 (the single broker is node 1)."""
    return 1 if name == KAFKA else int(name[len(KAFKA) + 1 :])


def kafka_count(state: StackState) -> int:
    """How many Kafka nodes the stack recorded (0 before its first start)."""
    if KAFKA in state.parts:
        return 1
    return sum(1 for name in state.parts if is_kafka(name))


def supervised(state: StackState) -> list[str]:
    """The parts the supervisor tends, in the order they are (re)started, Kafka's nodes in
    place of `kafka`."""
    nodes = kafka_names(kafka_count(state) or 1)
    return [n for name in SUPERVISED for n in (nodes if name == KAFKA else [name])]


def service_addresses(ports: dict[str, int]) -> dict[str, str]:
    """IPRWATCH_<NAME>_PORT and _URL of each service, as the services read them (alerts makes
    its monthly bulletin from IPRWATCH_INDICATORS_URL; a division page of indicators shows its
    current alerts from IPRWATCH_ALERTS_URL). Every service gets every address: the ports are
    chosen before the first one starts."""
    env: dict[str, str] = {}
    for name, port in ports.items():
        env[f"IPRWATCH_{name.upper()}_PORT"] = str(port)
        env[f"IPRWATCH_{name.upper()}_URL"] = f"http://{LOOPBACK}:{port}"
    return env


def provision_ingest_tokens(home: StackHome, env: dict[str, str]) -> dict[str, str]:
    """Make sure the `simulator` token (every source and type) exists; its plaintext goes to
    `<home>/simulator.token` (0600). Return the setting that points ingest at the tokens file."""
    tokens_file = Path(env.get("IPRWATCH_INGEST_TOKENS_FILE") or home.root / "ingest-tokens.json")
    ensure_token(TokenStore(tokens_file), "simulator", home.root / "simulator.token")
    return {"IPRWATCH_INGEST_TOKENS_FILE": str(tokens_file)}


def provision_alerts_admin_token(home: StackHome, env: dict[str, str]) -> dict[str, str]:
    """The alerts write endpoints (silences) need an admin token: unless one is configured,
    the local stack makes one, kept in `<home>/alerts-admin.token` (0600) across restarts."""
    if env.get("IPRWATCH_ALERTS_ADMIN_TOKEN"):
        return {}
    token_file = home.root / "alerts-admin.token"
    if not token_file.exists():
        token_file.touch(mode=0o600)
        token_file.write_text(secrets.token_urlsafe(32) + "\n")
    return {"IPRWATCH_ALERTS_ADMIN_TOKEN": token_file.read_text().strip()}


def service_marker(name: str) -> str:
    return f"iprwatch.cli {name}"


def launch_service(name: str, env: dict[str, str], log_file: Path) -> int:
    """Start one service (`python -m iprwatch.cli NAME`) in the background; return its pid."""
    return spawn([sys.executable, "-m", "iprwatch.cli", name], log_file, env=env, cwd=REPO_ROOT)


def wait_ready(base_url: str, pid: int, name: str, log_file: Path, timeout: float = 60.0) -> None:
    """Poll `/readyz` until it answers 200; fail early, with the log, if the process died."""

    def ready() -> bool:
        if not is_alive(pid):
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
            raise StackError(f"{name} exited while starting; last lines of {log_file}:\n{tail}")
        try:
            return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout, name, log_file)
