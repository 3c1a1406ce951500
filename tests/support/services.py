"""Starting the three services as real processes for end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from iprwatch.stack.processes import LOOPBACK, free_port, stop
from iprwatch.stack.stack import SERVICES, Endpoints, launch_service, service_marker, wait_ready
from services.ingest.adapters.tokens import TokenStore
from shared.settings import KafkaSettings


@dataclass(frozen=True)
class RunningServices:
    urls: dict[str, str]
    pids: dict[str, int]
    env: dict[str, str]
    logs: Path
    token: str = ""

    @property
    def auth_headers(self) -> dict[str, str]:
        """What a registry system sends: the bearer token of this test (every source, type)."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ingest(self) -> str:
        return self.urls["ingest"]

    @property
    def indicators(self) -> str:
        return self.urls["indicators"]

    @property
    def alerts(self) -> str:
        return self.urls["alerts"]


def service_env(
    infra: Endpoints, kafka: KafkaSettings, db_schema: str, ports: dict[str, int]
) -> dict[str, str]:
    env = {
        **os.environ,
        **infra.service_env(),
        "IPRWATCH_KAFKA_EVENTS_TOPIC": kafka.events_topic,
        "IPRWATCH_KAFKA_INDICATORS_TOPIC": kafka.indicators_topic,
        "IPRWATCH_KAFKA_DEAD_LETTER_TOPIC": kafka.dead_letter_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka.partitions),
        "IPRWATCH_INDICATORS_DB_SCHEMA": db_schema,
        "IPRWATCH_INDICATORS_CONSUMER_GROUP": f"{db_schema}-indicators",
        "IPRWATCH_INDICATORS_SNAPSHOT_REFRESH_SECONDS": "0.2",
        "IPRWATCH_ALERTS_DB_SCHEMA": f"{db_schema}_alerts",
        "IPRWATCH_ALERTS_CONSUMER_GROUP": f"{db_schema}-alerts",
    }
    for name, port in ports.items():
        env[f"IPRWATCH_{name.upper()}_PORT"] = str(port)
        env[f"IPRWATCH_{name.upper()}_URL"] = f"http://{LOOPBACK}:{port}"
    return env


@contextmanager
def start_services(
    infra: Endpoints,
    kafka: KafkaSettings,
    db_schema: str,
    logs: Path,
    alerts: Mapping[str, str] | None = None,
) -> Iterator[RunningServices]:
    """The three services as processes; `alerts` sets IPRWATCH_ALERTS_<NAME> for this run."""
    ports: dict[str, int] = {}
    for name in SERVICES:
        ports[name] = free_port(taken=set(ports.values()))
    env = service_env(infra, kafka, db_schema, ports)
    env.update({f"IPRWATCH_ALERTS_{name}": value for name, value in (alerts or {}).items()})
    tokens_file = logs / "ingest-tokens.json"
    token = TokenStore(tokens_file).add("tests", ["*"], ["*"])
    env["IPRWATCH_INGEST_TOKENS_FILE"] = str(tokens_file)
    env["IPRWATCH_TOKEN"] = token
    pids: dict[str, int] = {}
    urls = {name: f"http://{LOOPBACK}:{port}" for name, port in ports.items()}
    try:
        for name in SERVICES:
            log = logs / f"{name}.log"
            pids[name] = launch_service(name, env, log)
            wait_ready(urls[name], pids[name], name, log)
        yield RunningServices(urls, pids, env, logs, token)
    finally:
        for name, pid in pids.items():
            stop(pid, service_marker(name), timeout=20)
