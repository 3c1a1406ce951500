"""The parts of the local stack: their names and usual ports, how to reach the infrastructure
(`Endpoints`), a row of `iprwatch stack status`, and how a service is launched, provisioned
with its tokens and waited on."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx

from iprwatch.stack import kafka
from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    is_alive,
    port_is_free,
    spawn,
    wait_until,
)
from iprwatch.stack.state import StackState
from services.ingest.adapters.tokens import TokenStore, ensure_token
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
