"""The Helm chart (deploy/kubernetes/iprwatch) lints, renders and validates, with no cluster.

`helm lint`, `helm template` for the default and the production values, and kubeconform -strict
on the output against the Kubernetes 1.34 schemas and the CRD schemas of CloudNativePG, the
Prometheus Operator and Strimzi (deploy/kubernetes/tools/install.py says where each comes from;
a resource without a schema fails). The tools are installed by that script on the first run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from iprwatch.stack.home import REPO_ROOT
from tests.observability.test_compose import SETTINGS, env_names

CHART = REPO_ROOT / "deploy" / "kubernetes" / "iprwatch"
PRODUCTION = CHART / "values-production.yaml"
INSTALL = REPO_ROOT / "deploy" / "kubernetes" / "tools" / "install.py"
KUBERNETES_VERSION = "1.34.0"
# helm built by `go install` assumes Kubernetes 1.20 (its release build sets the version).
KUBE = ("--kube-version", KUBERNETES_VERSION)
EXISTING = [
    "--set", "kafka.strimzi.enabled=false",
    "--set", "kafka.bootstrapServers=kafka-0.kafka.data:9092\\,kafka-1.kafka.data:9092",
    "--set", "postgresql.cnpg.enabled=false",
    "--set", "secrets.postgresDsn=postgresql://iprwatch:pw@pg.data:5432/iprwatch",
]  # fmt: skip


@cache
def tools() -> dict[str, str]:
    command = [sys.executable, str(INSTALL)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 0, f"installing the chart tools failed:\n{done.stderr}"
    found: dict[str, str] = json.loads(done.stdout)
    return found


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    command = [tools()["helm"], *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def render(*args: str) -> str:
    done = helm("template", "iprwatch", str(CHART), "--namespace", "ipr", *KUBE, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def documents(manifests: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifests) if doc]


def kubeconform(manifests: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    """kubeconform's exit code and its result per resource (valid ones included), for files
    named by the keys; one run, so each schema is compiled once."""
    t = tools()
    kubernetes = t["kubernetes_schemas"] + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    crds = t["crd_schemas"] + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, text in manifests.items():
            (Path(folder) / f"{name}.yaml").write_text(text)
            files.append(str(Path(folder) / f"{name}.yaml"))
        command = [t["kubeconform"], "-strict", "-summary", "-output", "json", "-verbose",
                   "-kubernetes-version", KUBERNETES_VERSION,
                   "-schema-location", kubernetes, "-schema-location", crds, *files]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    report = json.loads(done.stdout)
    for result in report["resources"]:
        result["filename"] = Path(result["filename"]).stem
    return done.returncode, report["resources"]


@cache
def rendered() -> dict[str, list[dict[str, Any]]]:
    """The default, production and existing-Kafka/PostgreSQL renders, each object validated."""
    manifests = {
        "default": render(),
        "production": render("-f", str(PRODUCTION)),
        "existing": render(*EXISTING),
    }
    code, results = kubeconform(manifests)
    bad = [r for r in results if r["status"] != "statusValid"]
    assert code == 0 and not bad, json.dumps(bad, indent=1, ensure_ascii=False)
    docs = {name: documents(text) for name, text in manifests.items()}
    checked = Counter(r["filename"] for r in results)
    assert checked == {name: len(found) for name, found in docs.items()}
    return docs


def kinds(docs: list[dict[str, Any]]) -> Counter[str]:
    return Counter(doc["kind"] for doc in docs)


def one(docs: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]
    return found


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return rendered()["default"]


@pytest.fixture(scope="module")
def production_docs() -> list[dict[str, Any]]:
    return rendered()["production"]


def test_helm_lint_passes_for_default_and_production_values() -> None:
    for extra in ([], ["-f", str(PRODUCTION)], EXISTING):
        done = helm("lint", "--strict", str(CHART), *KUBE, *extra)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


def test_default_values_render_a_valid_single_replica_system(
    default_docs: list[dict[str, Any]],
) -> None:
    assert kinds(default_docs) == {
        "Deployment": 3, "Service": 3, "PodDisruptionBudget": 3, "ServiceMonitor": 3,
        "ConfigMap": 3, "KafkaTopic": 3, "Secret": 1, "ServiceAccount": 1, "PrometheusRule": 1,
        "Kafka": 1, "KafkaNodePool": 1, "Cluster": 1,
    }  # fmt: skip
    for name in ("ingest", "indicators", "alerts"):
        assert one(default_docs, "Deployment", name)["spec"]["replicas"] == 1
    assert one(default_docs, "KafkaNodePool", "dual")["spec"]["replicas"] == 1
    for topic in (d for d in default_docs if d["kind"] == "KafkaTopic"):
        assert topic["spec"]["replicas"] == 1
        assert topic["spec"]["config"]["min.insync.replicas"] == 1
    assert one(default_docs, "Cluster", "-pg")["spec"]["instances"] == 1


def test_production_values_render_a_replicated_system(
    production_docs: list[dict[str, Any]],
) -> None:
    docs = production_docs
    assert kinds(docs) == {
        "Deployment": 3, "Service": 3, "PodDisruptionBudget": 3, "ServiceMonitor": 3,
        "ConfigMap": 3, "KafkaTopic": 3, "NetworkPolicy": 3, "ServiceAccount": 1,
        "PrometheusRule": 1, "Kafka": 1, "KafkaNodePool": 1, "Cluster": 1, "ScheduledBackup": 1,
        "HorizontalPodAutoscaler": 1,
    }  # fmt: skip
    assert one(docs, "KafkaNodePool", "dual")["spec"]["replicas"] == 3
    assert one(docs, "KafkaNodePool", "dual")["spec"]["roles"] == ["controller", "broker"]
    topics = {d["spec"]["topicName"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
    assert set(topics) == {"ipr.events.v1", "ipr.indicators.v1", "ipr.events.dlq.v1"}
    for spec in topics.values():
        assert (spec["replicas"], spec["partitions"]) == (3, 12)
        assert spec["config"]["min.insync.replicas"] == 2
    assert topics["ipr.events.v1"]["config"]["retention.ms"] == -1  # the source of truth
    kafka_config = one(docs, "Kafka", "iprwatch")["spec"]["kafka"]["config"]
    assert kafka_config["min.insync.replicas"] == 2
    assert kafka_config["offsets.topic.replication.factor"] == 3
    hpa = one(docs, "HorizontalPodAutoscaler", "indicators")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert "replicas" not in one(docs, "Deployment", "indicators")["spec"]  # the HPA owns it
    assert one(docs, "Deployment", "ingest")["spec"]["replicas"] == 3
    assert one(docs, "Deployment", "alerts")["spec"]["strategy"]["type"] == "RollingUpdate"
    assert one(docs, "Deployment", "alerts")["spec"]["replicas"] == 2  # a leader and a standby
    assert one(docs, "PodDisruptionBudget", "ingest")["spec"]["minAvailable"] == 2
    assert one(docs, "Cluster", "-pg")["spec"]["instances"] == 3
    assert not [d for d in docs if d["kind"] == "Secret"]  # existingSecret


def test_network_policies_admit_registries_to_ingest_and_the_office_to_the_read_apis(
    production_docs: list[dict[str, Any]],
) -> None:
    policies = {d["metadata"]["name"].rsplit("-", 1)[-1]: d["spec"]
                for d in production_docs if d["kind"] == "NetworkPolicy"}  # fmt: skip
    assert set(policies) == {"ingest", "indicators", "alerts"}

    def sources(spec: dict[str, Any]) -> list[Any]:
        return [rule["from"] for rule in spec["ingress"]]

    def namespace(name: str) -> dict[str, Any]:
        return {"matchLabels": {"kubernetes.io/metadata.name": name}}

    prometheus_pods = {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}
    prometheus = [{"namespaceSelector": namespace("monitoring"), "podSelector": prometheus_pods}]
    assert sources(policies["ingest"]) == [[{"ipBlock": {"cidr": "198.51.100.0/24"}}], prometheus]
    office = [{"ipBlock": {"cidr": "10.20.0.0/16"}},
              {"namespaceSelector": namespace("ingress-nginx")}]  # fmt: skip
    # the two read APIs reach each other (the bulletin, a division page's alerts)
    assert sources(policies["indicators"])[:2] == [office, prometheus]
    assert sources(policies["alerts"])[:2] == [office, prometheus]
    for name, peer in (("indicators", "alerts"), ("alerts", "indicators")):
        [[pods]] = sources(policies[name])[2:]
        assert pods["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == peer
        to_peer = [r for r in policies[name]["egress"] if "podSelector" in r["to"][0]
                   and r["to"][0]["podSelector"]["matchLabels"].get(
                       "app.kubernetes.io/component") == peer]  # fmt: skip
        assert [p["port"] for r in to_peer for p in r["ports"]] == ["http"]
    egress_ports = {name: sorted(str(p["port"]) for rule in spec["egress"] for p in rule["ports"])
                    for name, spec in policies.items()}  # fmt: skip
    assert egress_ports == {"ingest": ["53", "53", "9092"],
                            "indicators": ["53", "53", "5432", "9092", "http"],
                            "alerts": ["53", "53", "5432", "587", "9092", "http"]}  # fmt: skip


def test_existing_kafka_and_postgresql_render_without_operators() -> None:
    docs = rendered()["existing"]
    assert not {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"} & set(kinds(docs))
    env = {e["name"]: e for e in one(docs, "Deployment", "indicators")["spec"]["template"]["spec"]
           ["containers"][0]["env"]}  # fmt: skip
    assert env["IPRWATCH_KAFKA_BOOTSTRAP_SERVERS"]["value"] == (
        "kafka-0.kafka.data:9092,kafka-1.kafka.data:9092"
    )
    assert env["IPRWATCH_PG_DSN"]["valueFrom"]["secretKeyRef"] == {
        "name": "iprwatch-secrets", "key": "postgres-dsn"}  # fmt: skip
    secret = one(docs, "Secret", "secrets")["stringData"]
    assert secret["postgres-dsn"] == "postgresql://iprwatch:pw@pg.data:5432/iprwatch"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", str(PRODUCTION), "--set", "indicators.autoscaling.maxReplicas=13"],
         "indicators.autoscaling.maxReplicas (13) exceeds kafka.partitions (12)"),
        (["--set", "indicators.replicas=7"],
         "indicators.replicas (7) exceeds kafka.partitions (6)"),
        (["--set", "kafka.replicationFactor=3"],
         "kafka.replicationFactor (3) exceeds the brokers of the Strimzi node pool (1)"),
        (["--set", "alerts.replicas=0"], "alerts.replicas is 0"),
        (["--set", "kafka.strimzi.enabled=false"], "kafka.bootstrapServers is required"),
    ],
)  # fmt: skip
def test_values_that_would_break_the_system_stop_the_render(args: list[str], message: str) -> None:
    done = helm("template", "iprwatch", str(CHART), *KUBE, *args)
    assert done.returncode == 1
    assert message in done.stderr


BROKEN = {
    "a misspelt field of a Deployment": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      contianers: [{name: x, image: x}]
""",
    "a string where a Service wants a port number": """
apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  ports: [{port: eighty}]
""",
    "a KafkaTopic with zero replicas": """
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: {name: x, labels: {strimzi.io/cluster: c}}
spec: {partitions: 6, replicas: 0}
""",
    "an unknown field of a ServiceMonitor endpoint": """
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  endpoints: [{port: http, scrapeEvery: 15s}]
""",
    "a CloudNativePG Cluster without instances as a number": """
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: x}
spec: {instances: three, storage: {size: 1Gi}}
""",
    "a kind nobody has a schema for": """
apiVersion: example.invalid/v1
kind: Gadget
metadata: {name: x}
""",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_kubeconform_rejects_a_broken_manifest(case: str) -> None:
    code, results = kubeconform({case.replace(" ", "-"): BROKEN[case]})
    assert code == 1
    assert [r["status"] for r in results] in (["statusInvalid"], ["statusError"])


def test_every_env_variable_is_a_setting_the_service_reads(
    production_docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {"ingest": 8001, "indicators": 8002, "alerts": 8003}
    for name, settings_class in SETTINGS.items():
        pod = one(production_docs, "Deployment", name)["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == [name]
        assert container["ports"][0]["containerPort"] == ports[name]
        env = container["env"]
        unknown = {e["name"] for e in env} - env_names(settings_class) - {"IPRWATCH_HOME"}
        assert not unknown, f"{name} sets variables its settings do not read: {unknown}"
        for key in list(os.environ):
            if key.startswith("IPRWATCH_"):
                monkeypatch.delenv(key)
        for e in env:
            monkeypatch.setenv(e["name"], e.get("value", "postgresql://from-secret@pg/iprwatch"))
        settings: Any = settings_class()
        assert (settings.host, settings.port) == ("0.0.0.0", ports[name])  # noqa: S104
        assert settings.kafka.bootstrap_servers == "iprwatch-kafka-bootstrap:9092"
        assert (settings.kafka.partitions, settings.kafka.replication_factor) == (12, 3)
        probes = {k: container[k]["httpGet"]["path"] for k in ("readinessProbe", "livenessProbe")}
        assert probes == {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True


def test_chart_links_to_the_rules_and_dashboards_and_packages_their_content(
    tmp_path: Path,
) -> None:
    """files/ links to deploy/ (helm follows links), and a packaged chart carries the files."""
    links = {
        "prometheus-rules": REPO_ROOT / "deploy" / "prometheus" / "rules",
        "grafana-dashboards": REPO_ROOT / "deploy" / "grafana" / "dashboards",
    }
    for name, origin in links.items():
        link = CHART / "files" / name
        assert link.is_symlink() and link.resolve() == origin.resolve()
    done = helm("package", str(CHART), "--destination", str(tmp_path))
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "iprwatch-0.1.0.tgz") as archive:
        packed = {
            m.name: (archive.extractfile(m) or io.BytesIO()).read()
            for m in archive.getmembers()
            if m.isfile() and "/files/" in m.name
        }
    expected = {
        f"iprwatch/files/{name}/{p.name}": p.read_bytes()
        for name, origin in links.items()
        for p in origin.iterdir()
        if p.is_file()
    }
    assert packed == expected


def test_prometheus_rule_and_dashboards_carry_the_project_files(
    default_docs: list[dict[str, Any]],
) -> None:
    rules_dir = REPO_ROOT / "deploy" / "prometheus" / "rules"
    files = sorted(rules_dir.glob("*.yml"))
    groups = [group for f in files for group in yaml.safe_load(f.read_text())["groups"]]
    assert one(default_docs, "PrometheusRule", "iprwatch")["spec"]["groups"] == groups
    monitors = [d for d in default_docs if d["kind"] == "ServiceMonitor"]
    assert sorted(m["spec"]["jobLabel"] for m in monitors) == ["app.kubernetes.io/component"] * 3
    dashboards = {
        name: json.loads(text)
        for d in default_docs if d["kind"] == "ConfigMap"
        for name, text in d["data"].items()
    }  # fmt: skip
    folder = REPO_ROOT / "deploy" / "grafana" / "dashboards"
    assert dashboards == {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    for d in default_docs:
        if d["kind"] == "ConfigMap":
            assert d["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_the_install_script_is_a_no_op_the_second_time() -> None:
    first = tools()
    for path in first.values():
        assert Path(path).exists()
    command = [sys.executable, str(INSTALL)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    assert json.loads(done.stdout) == first
    assert "go install" not in done.stderr


def test_recipients_plan_and_smtp_ca_are_mounted_where_the_settings_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipients = {"city": [{"email": "ipr-office@cq.example", "name": "规划处"}], "webhooks": []}
    docs = documents(render(
        "--set-json", f"alerts.recipients={json.dumps(recipients)}",
        "--set", "plan.existingConfigMap=sichuan-plan",
        "--set", "alerts.smtpCaConfigMap=ministry-ca",
        "--set", "secrets.alertsAdminToken=admin-secret",
    ))  # fmt: skip
    pod = one(docs, "Deployment", "alerts")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {
        "tmp": "/tmp",  # noqa: S108
        "plan": "/etc/iprwatch/plan",
        "recipients": "/etc/iprwatch/alerts",
        "smtp-ca": "/etc/iprwatch/smtp-ca",
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["plan"]["configMap"] == {"name": "sichuan-plan"}
    assert volumes["recipients"]["secret"]["secretName"] == "iprwatch-secrets"
    secret = one(docs, "Secret", "secrets")["stringData"]
    assert yaml.safe_load(secret["recipients.yaml"]) == recipients
    assert secret["alerts-admin-token"] == "admin-secret"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["IPRWATCH_PLAN_FILE"] == "/etc/iprwatch/plan/plan.yaml"
    assert env["IPRWATCH_ALERTS_RECIPIENTS_FILE"] == "/etc/iprwatch/alerts/recipients.yaml"
    assert env["IPRWATCH_ALERTS_SMTP_CA_FILE"] == "/etc/iprwatch/smtp-ca/ca.crt"
    for key in list(os.environ):
        if key.startswith("IPRWATCH_"):
            monkeypatch.delenv(key)
    for name, value in env.items():
        monkeypatch.setenv(name, value or "from-a-secret")
    settings: Any = SETTINGS["alerts"]()
    assert str(settings.recipients_file) == "/etc/iprwatch/alerts/recipients.yaml"
    assert str(settings.plan.plan_file) == "/etc/iprwatch/plan/plan.yaml"
