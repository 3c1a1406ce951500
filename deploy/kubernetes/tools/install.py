"""Install the chart's check tools and schemas into a cache folder, from the package registries.

    python deploy/kubernetes/tools/install.py        # prints a JSON object of the paths

What it fetches, and from where (each pinned; nothing comes from GitHub directly):

- helm v3.22.0: Go module proxy, `go install helm.sh/helm/v3/cmd/helm@v3.22.0`
- kubeconform v0.8.0: Go module proxy,
  `go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0`
- Kubernetes 1.34 JSON schemas: PyPI, the wheel of `kubernetes-validate` 1.37.0 (its
  `v1.34.0-local-strict` folder; `$id`s dropped and references made local, so nothing is
  fetched from kubernetes.io)
- CloudNativePG `Cluster`, `ScheduledBackup`: Go module
  `github.com/cloudnative-pg/cloudnative-pg` v1.27.0, `config/crd/bases/*.yaml`
- `ServiceMonitor`, `PrometheusRule`: Go module
  `github.com/prometheus-operator/prometheus-operator` v0.85.0,
  `example/prometheus-operator-crd/*.yaml`
- Strimzi `Kafka`, `KafkaNodePool`, `KafkaTopic`: `strimzi-schemas/` beside this file (its
  README says why: no registry serves Strimzi's CRDs); their property names are checked
  against Strimzi's model classes in `io.strimzi:api` 0.48.0 from Maven Central
  (`install.py strimzi-api-jar`, used by tests/deploy/test_strimzi_schemas.py)

The CRDs' `openAPIV3Schema` are turned into kubeconform's JSON schemas by `crd2jsonschema.py`.
Everything lands in `$IPRWATCH_TOOLS` (default `~/.cache/iprwatch/tools`); a second run finds it
there and returns at once. Needs `go` (1.24 or newer) on PATH or in /usr/local/go/bin.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from crd2jsonschema import convert_crd_file  # noqa: E402

HELM = ("helm.sh/helm/v3/cmd/helm", "v3.22.0")
KUBECONFORM = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0")
KUBERNETES_VALIDATE = "1.37.0"
KUBERNETES_VERSION = "1.34.0"
CNPG = ("github.com/cloudnative-pg/cloudnative-pg", "v1.27.0")
CNPG_CRDS = ("config/crd/bases/postgresql.cnpg.io_clusters.yaml",
             "config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml")  # fmt: skip
PROMETHEUS_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", "v0.85.0")
PROMETHEUS_OPERATOR_CRDS = (
    "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
    "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
)
STRIMZI_SCHEMAS = HERE / "strimzi-schemas"
# The Strimzi model classes the hand-written schemas are checked against (tests/deploy).
STRIMZI_API = "io.strimzi:api:0.48.0"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def tools_dir() -> Path:
    default = Path.home() / ".cache" / "iprwatch" / "tools"
    return Path(os.environ.get("IPRWATCH_TOOLS", default))


def _go() -> str:
    found = shutil.which("go")
    if found is None and Path("/usr/local/go/bin/go").exists():
        found = "/usr/local/go/bin/go"
    if found is None:
        raise SystemExit("go is needed to install helm and kubeconform (Go 1.24 or newer)")
    return found


def _say(message: str) -> None:
    sys.stderr.write(f"· {message}\n")


def _go_binary(root: Path, package: str, version: str) -> Path:
    name = package.rsplit("/", 1)[-1]
    target = root / "bin" / f"{name}-{version}"
    if target.exists():
        return target
    _say(f"go install {package}@{version} (first run only)")
    with tempfile.TemporaryDirectory(dir=root) as gobin:
        env = {**os.environ, "GOBIN": gobin, "GOFLAGS": "-trimpath"}
        subprocess.run([_go(), "install", f"{package}@{version}"], check=True, env=env)  # noqa: S603
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(gobin) / name), target)
    return target


def _go_module(module: str, version: str) -> Path:
    """The folder of a module in Go's module cache (downloaded through the module proxy)."""
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    command = [_go(), "mod", "download", "-json", f"{module}@{version}"]
    out = subprocess.run(command, check=True, env=env, capture_output=True, text=True).stdout  # noqa: S603
    info = json.loads(out)
    if "Dir" not in info:
        raise SystemExit(f"go mod download {module}@{version}: {info.get('Error', out)}")
    return Path(info["Dir"])


def _local_refs(schema: Any) -> Any:
    """The schema with its references resolved beside it on disk, not at kubernetes.io.

    kubernetes-validate's files carry `$id: https://kubernetes.io/api/...` and refer to
    `/api/_definitions.json`; kubeconform reads them as files, so the `$id` goes and the
    references become relative to the file.
    """
    if isinstance(schema, dict):
        return {
            key: (value.replace("/api/_definitions.json", "_definitions.json", 1)
                  if key == "$ref" and isinstance(value, str) else _local_refs(value))
            for key, value in schema.items()
            if key != "$id"
        }  # fmt: skip
    if isinstance(schema, list):
        return [_local_refs(item) for item in schema]
    return schema


def _kubernetes_schemas(root: Path) -> Path:
    folder_name = f"v{KUBERNETES_VERSION}-local-strict"
    target = root / "schemas" / "kubernetes" / folder_name
    if (target / ".complete").exists():
        return target
    _say(
        f"kubernetes-validate {KUBERNETES_VALIDATE} (PyPI): Kubernetes {KUBERNETES_VERSION} schemas"
    )
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    wheel = downloads / f"kubernetes_validate-{KUBERNETES_VALIDATE}-py3-none-any.whl"
    if not wheel.exists():
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "-d", str(downloads),
               f"kubernetes-validate=={KUBERNETES_VALIDATE}"]  # fmt: skip
        subprocess.run(pip, check=True)  # noqa: S603
    prefix = f"kubernetes_validate/kubernetes-json-schema/{folder_name}/"
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(prefix) and member.endswith(".json"):
                schema = _local_refs(json.loads(archive.read(member)))
                (staging / member[len(prefix) :]).write_text(json.dumps(schema))
    (staging / ".complete").write_text("")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _crd_schemas(root: Path) -> Path:
    target = root / "schemas" / "crds" / f"cnpg-{CNPG[1]}_po-{PROMETHEUS_OPERATOR[1]}"
    stamp = target / ".complete"
    if not stamp.exists():
        sources = ((CNPG, CNPG_CRDS), (PROMETHEUS_OPERATOR, PROMETHEUS_OPERATOR_CRDS))
        _say("CRDs from the Go modules " + ", ".join(f"{m}@{v}" for (m, v), _ in sources))
        for (module, version), files in sources:
            folder = _go_module(module, version)
            for name in files:
                convert_crd_file(folder / name, target)
        stamp.write_text("")
    # Strimzi's: kept in this repository (small, hand-checked; see strimzi-schemas/README.md).
    for schema in STRIMZI_SCHEMAS.glob("*/*.json"):
        dest = target / schema.parent.name / schema.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schema, dest)
    return target


def strimzi_api_jar() -> Path:
    """Strimzi's API model jar from Maven Central (needs `mvn`), kept in the tools folder."""
    downloads = tools_dir() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    _, artifact, version = STRIMZI_API.split(":")
    jar = downloads / f"{artifact}-{version}.jar"
    if not jar.exists():
        _say(f"{STRIMZI_API} from Maven Central")
        command = ["mvn", "-q", "-B", f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
                   f"-Dartifact={STRIMZI_API}", f"-DoutputDirectory={downloads}"]  # fmt: skip
        subprocess.run(command, check=True, cwd=tools_dir(), stdout=sys.stderr)  # noqa: S603
    return jar


def install() -> dict[str, str]:
    root = tools_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions at once install once
        return {
            "helm": str(_go_binary(root, *HELM)),
            "kubeconform": str(_go_binary(root, *KUBECONFORM)),
            "kubernetes_schemas": str(_kubernetes_schemas(root)),
            "crd_schemas": str(_crd_schemas(root)),
        }


if __name__ == "__main__":
    if sys.argv[1:] == ["strimzi-api-jar"]:
        sys.stdout.write(f"{strimzi_api_jar()}\n")
    else:
        sys.stdout.write(json.dumps(install(), indent=2) + "\n")
