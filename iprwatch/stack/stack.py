"""`iprwatch stack up|down|status`: the whole system on loopback, every part under one folder.

Order of start: PostgreSQL, Kafka, the SMTP mail sink, then the three services, each waited on
until it answers. `up` twice is safe (live parts are kept); `down` stops, by pid, only what
`up` recorded in the stack's state file.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from iprwatch.stack import kafka, postgres, prometheus, system
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    free_port,
    is_alive,
    port_answers,
    port_is_free,
    spawn,
    stop,
    wait_until,
)
from iprwatch.stack.state import Part, StackState
from services.ingest.adapters.tokens import TokenStore, ensure_token
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings

Say = Callable[[str], None]

INFRA = ("postgres", "kafka", "smtp")
SERVICES = ("ingest", "indicators", "alerts")
PREFERRED_PORTS = {
    "postgres": 15432,
    "kafka": 19092,
    "kafka-controller": 19093,
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

    def service_env(self) -> dict[str, str]:
        return {
            "IPRWATCH_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "IPRWATCH_PG_DSN": self.postgres_dsn,
            "IPRWATCH_SMTP_HOST": LOOPBACK,
            "IPRWATCH_SMTP_PORT": str(self.smtp_port),
        }


class Stack:
    def __init__(
        self, home: StackHome | None = None, say: Say = print, well_known_ports: bool = True
    ) -> None:
        self.home = home or StackHome.default()
        self.say = say
        self.well_known_ports = well_known_ports

    def _preferred(self, name: str) -> int | None:
        """The stack's usual port for `name` (if free); test stacks take any free port."""
        return PREFERRED_PORTS[name] if self.well_known_ports else None

    # -- state ---------------------------------------------------------------------------
    def _state(self) -> StackState:
        return StackState.load(self.home.state_file)

    def _live(self, state: StackState, name: str) -> Part | None:
        part = state.parts.get(name)
        if part is not None and is_alive(part.pid, part.marker):
            return part
        return None

    def _taken_ports(self, state: StackState) -> set[int]:
        return {p.port for p in state.parts.values()} | {
            int(p.extra["controller_port"])
            for p in state.parts.values()
            if "controller_port" in p.extra
        }

    # -- infrastructure ------------------------------------------------------------------
    def up_infra(self) -> Endpoints:
        """Start (or keep) PostgreSQL, Kafka and the mail sink; return how to reach them."""
        system.ensure(
            [system.JAVA, system.MAVEN, system.POSTGRES, system.CJK_FONT], say=self.say
        )  # the font: the alerts service draws charts
        self.home.prepare()
        state = self._state()
        self._up_postgres(state)
        self._up_kafka(state)
        self._up_smtp(state)
        state.save(self.home.state_file)
        endpoints = self.endpoints(state)
        kafka = KafkaSettings(bootstrap_servers=endpoints.kafka_bootstrap)
        topics = [kafka.events_topic, kafka.indicators_topic, kafka.dead_letter_topic]
        asyncio.run(ensure_topics(kafka, topics))
        return endpoints

    def endpoints(self, state: StackState | None = None) -> Endpoints:
        state = state or self._state()
        try:
            return Endpoints(
                kafka_bootstrap=f"{LOOPBACK}:{state.parts['kafka'].port}",
                postgres_dsn=postgres.dsn(state.parts["postgres"].port),
                smtp_port=state.parts["smtp"].port,
            )
        except KeyError as exc:
            raise StackError(f"the stack has no {exc.args[0]}: run `iprwatch stack up`") from exc

    def _up_postgres(self, state: StackState) -> None:
        if (part := self._live(state, "postgres")) is not None:
            self.say(f"postgres     already running on port {part.port} (pid {part.pid})")
            return
        port = free_port(self._preferred("postgres"), self._taken_ports(state))
        log = self.home.logs / "postgres.log"
        with self._step(f"starting PostgreSQL on port {port}"):
            pid = postgres.start(self.home.postgres, port, log)
            postgres.create_database(port)
        state.parts["postgres"] = Part(
            "postgres", pid, port, postgres.MARKER, str(log), stop_signal=int(signal.SIGINT)
        )

    def _up_kafka(self, state: StackState) -> None:
        if (part := self._live(state, "kafka")) is not None:
            self.say(f"kafka        already running on port {part.port} (pid {part.pid})")
            return
        taken = self._taken_ports(state)
        old = state.parts.get("kafka")
        # The KRaft metadata remembers its listeners: keep the ports the data was made with.
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
        state.parts["kafka"] = Part(
            "kafka", pid, ports.broker, kafka.MARKER, str(log),
            extra={"controller_port": str(ports.controller)},
        )  # fmt: skip

    def _up_smtp(self, state: StackState) -> None:
        if (part := self._live(state, "smtp")) is not None:
            self.say(f"smtp         already running on port {part.port} (pid {part.pid})")
            return
        port = free_port(self._preferred("smtp"), self._taken_ports(state))
        log = self.home.logs / "smtp.log"
        command = [sys.executable, "-m", "iprwatch.stack.mailsink", "--port", str(port),
                   "--folder", str(self.home.mail)]  # fmt: skip
        with self._step(f"starting the SMTP mail sink on port {port}"):
            pid = spawn(command, log, cwd=REPO_ROOT)
            wait_until(lambda: port_answers(port), 20, "SMTP mail sink", log)
        state.parts["smtp"] = Part("smtp", pid, port, "iprwatch.stack.mailsink", str(log))

    # -- services ------------------------------------------------------------------------
    def up(self) -> StackState:
        """The whole system: infrastructure, then the three services, each ready."""
        endpoints = self.up_infra()
        state = self._state()
        env = {**os.environ, **endpoints.service_env()}
        env.update(provision_ingest_tokens(self.home, env))
        env.update(provision_alerts_admin_token(self.home, env))
        ports: dict[str, int] = {}
        for name in SERVICES:
            part = self._live(state, name)
            ports[name] = (
                part.port
                if part
                else free_port(
                    self._preferred(name), self._taken_ports(state) | set(ports.values())
                )
            )
            env[f"IPRWATCH_{name.upper()}_PORT"] = str(ports[name])
        for name in SERVICES:
            env[f"IPRWATCH_{name.upper()}_URL"] = f"http://{LOOPBACK}:{ports[name]}"
        for name in SERVICES:
            if (part := self._live(state, name)) is not None:
                self.say(f"{name:<12} already running on port {part.port} (pid {part.pid})")
                continue
            log = self.home.logs / f"{name}.log"
            with self._step(f"starting {name} on port {ports[name]}"):
                pid = launch_service(name, env, log)
                state.parts[name] = Part(name, pid, ports[name], service_marker(name), str(log))
                state.save(self.home.state_file)
                wait_ready(f"http://{LOOPBACK}:{ports[name]}", pid, name, log)
        if prometheus.wanted():  # optional: scrapes the services, skipped if not installable
            taken = self._taken_ports(state) | set(ports.values())
            prometheus.up(self.home, state, ports, self.say, taken, self.well_known_ports)
        state.save(self.home.state_file)
        self._write_env(env, ports)
        return state

    def _write_env(self, env: dict[str, str], ports: dict[str, int]) -> None:
        keys = sorted(k for k in env if k.startswith("IPRWATCH_") and k != "IPRWATCH_HOME")
        lines = [f"export {k}={env[k]}" for k in keys]
        lines += [f"# {name}: http://{LOOPBACK}:{port}" for name, port in ports.items()]
        self.home.env_file.write_text("\n".join(lines) + "\n")
        self.home.env_file.chmod(0o600)  # it carries the alerts admin token

    def down(self) -> list[str]:
        """Stop every part `up` recorded, services first; return the names stopped."""
        state = self._state()
        stopped: list[str] = []
        for name in ("prometheus", *SERVICES, "smtp", "kafka", "postgres"):
            part = state.parts.get(name)
            if part is None:
                continue
            if stop(part.pid, part.marker, sig=part.stop_signal, timeout=60):
                stopped.append(name)
                self.say(f"stopped {name} (pid {part.pid})")
        # The records stay: `status` shows them stopped, and the next `up` reuses Kafka's ports.
        state.save(self.home.state_file)
        return stopped

    def clean(self) -> None:
        """Stop everything, then delete the stack's data (PostgreSQL's cluster wherever it is)."""
        self.down()
        postgres.remove_cluster(self.home.postgres)
        shutil.rmtree(self.home.root, ignore_errors=True)
        self.say(f"removed {self.home.root}")

    def status(self) -> list[tuple[str, str, int | None, int | None, str]]:
        """(part, state, port, pid, log) for every part of the stack."""
        state = self._state()
        rows: list[tuple[str, str, int | None, int | None, str]] = []
        for name in (*INFRA, *SERVICES, "prometheus"):
            part = state.parts.get(name)
            if part is None:
                rows.append((name, "not started", None, None, ""))
            elif is_alive(part.pid, part.marker):
                rows.append((name, "running", part.port, part.pid, part.log))
            else:
                rows.append((name, "stopped", part.port, None, part.log))
        return rows

    @contextmanager
    def _step(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"{what} ...")
        yield
        self.say(f"{what}: ready in {time.monotonic() - started:.1f}s")


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
