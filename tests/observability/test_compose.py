"""docker-compose.yml and the Dockerfile agree with the settings the code reads (no Docker needed).

Each service's environment is fed to its real pydantic settings class: every variable must be
one the class reads, and the values must put the service on 0.0.0.0, on the port that compose
publishes, health-checks and Prometheus scrapes, and on the compose hosts of its dependencies.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from iprwatch.cli import build_parser
from iprwatch.stack.home import REPO_ROOT
from services.alerts.settings import AlertsSettings
from services.indicators.settings import IndicatorsSettings
from services.ingest.settings import IngestSettings

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "indicators": IndicatorsSettings,
    "alerts": AlertsSettings,
}
# Which infrastructure each service talks to, by the settings it composes.
NEEDS = {"ingest": {"kafka"}, "indicators": {"kafka", "postgres"},
         "alerts": {"kafka", "postgres", "mailpit"}}  # fmt: skip
MAILPIT_SMTP_PORT = 1025


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class (and the classes it composes) reads."""
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            names |= env_names(kind)
        elif isinstance(field.validation_alias, AliasChoices):  # read by these names, no prefix
            names |= {c.upper() for c in field.validation_alias.choices if isinstance(c, str)}
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(mapping).rsplit(":", 1)[-1]) for mapping in service.get("ports", [])}


def settings_from(name: str, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's settings as its container would build them."""
    for key in list(os.environ):
        if key.startswith("IPRWATCH_"):
            monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, str(value))
    return SETTINGS[name]()


def test_compose_runs_every_part_of_the_system() -> None:
    services = compose()["services"]
    assert set(services) == {
        "kafka", "postgres", "mailpit", "ingest", "indicators", "alerts", "prometheus", "grafana",
    }  # fmt: skip
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    for name in SETTINGS:
        assert services[name]["build"] == "."
        assert services[name]["command"] == [name]
        assert build_parser().parse_args(services[name]["command"]).command == name


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_variable_is_one_the_service_reads(name: str) -> None:
    environment = compose()["services"][name]["environment"]
    unread = sorted(set(environment) - env_names(SETTINGS[name]))
    assert unread == [], f"{name} reads none of {unread}"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_service_listens_where_compose_publishes_checks_and_scrapes(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose()["services"][name]
    settings = settings_from(name, service["environment"], monkeypatch)
    assert settings.host == "0.0.0.0"  # noqa: S104 - inside its container
    assert container_ports(service) == {settings.port}
    check = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.port}/readyz" in check
    prometheus = yaml.safe_load((REPO_ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs[name]["static_configs"] == [{"targets": [f"{name}:{settings.port}"]}]


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_service_reaches_its_dependencies_by_their_compose_names(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose()["services"]
    service = services[name]
    settings = settings_from(name, service["environment"], monkeypatch)
    assert set(service["depends_on"]) == NEEDS[name]
    assert all(d["condition"] == "service_healthy" for d in service["depends_on"].values())

    kafka = services["kafka"]["environment"]
    assert f"PLAINTEXT://{settings.kafka.bootstrap_servers}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    if "postgres" in NEEDS[name]:
        dsn = urlsplit(settings.postgres.dsn.get_secret_value())
        database = services["postgres"]["environment"]
        assert (dsn.hostname, dsn.port, dsn.username, dsn.password, dsn.path) == (
            "postgres", 5432, database["POSTGRES_USER"], database["POSTGRES_PASSWORD"],
            f"/{database['POSTGRES_DB']}",
        )  # fmt: skip
    if "mailpit" in NEEDS[name]:
        assert (settings.smtp.host, settings.smtp.port) == ("mailpit", MAILPIT_SMTP_PORT)
    plan = Path(settings.plan.plan_file)
    assert plan.is_relative_to("/app"), plan
    assert (REPO_ROOT / plan.relative_to("/app")).is_file(), plan


def test_every_part_has_a_health_check() -> None:
    for name, service in compose()["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_prometheus_and_grafana_get_the_shipped_files() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    grafana = services["grafana"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load(
        (REPO_ROOT / "deploy/grafana/provisioning/dashboards/iprwatch.yml").read_text()
    )["providers"][0]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO_ROOT / "deploy/grafana/dashboards" / Path(home).name).is_file()
    assert home.startswith(provider["options"]["path"] + "/")


def test_the_image_runs_as_a_non_root_user_from_sources_the_build_context_keeps() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["iprwatch"]' in lines
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    ignored = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    sources = [
        source
        for line in lines
        if (match := re.match(r"COPY (?!--from)(.+) \S+$", line))
        for source in match.group(1).split()
    ]
    assert sources, "the Dockerfile copies nothing"
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
