"""Apache Kafka 4.x (KRaft) assembled from Maven Central jars: one node, or a local cluster.

One node (the default) is a broker and the only controller (`--standalone` quorum). A cluster
(`iprwatch stack up --brokers 3`) runs every node as a broker and a controller, the controller
quorum fixed by `controller.quorum.voters`; topics are replicated `min(brokers, 3)` times and a
write needs `min.insync.replicas` (2 from three brokers on) in-sync copies before it is
acknowledged, so one broker may die without losing an acknowledged event or refusing writes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    find_process,
    port_answers,
    spawn,
    wait_until,
)

log = logging.getLogger(__name__)

POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
MARKER = "kafka.Kafka"

LOG4J2 = """\
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      - name: kafka.server.BrokerServer
        level: INFO
"""


@dataclass(frozen=True)
class KafkaPorts:
    broker: int
    controller: int

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.broker}"


def replication_factor(brokers: int) -> int:
    """How many copies of each partition a cluster of `brokers` keeps."""
    return min(brokers, 3)


def min_insync_replicas(brokers: int) -> int:
    """The in-sync copies an `acks=all` write needs: 2 once there are three copies, else 1."""
    return 2 if replication_factor(brokers) >= 3 else 1


def ensure_jars(folder: Path, progress: Callable[[str], None]) -> Path:
    """Copy the broker's runtime jars into `folder/libs` with Maven (cached in ~/.m2)."""
    libs = folder / "libs"
    stamp = libs / ".pom-digest"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (mvn) is missing: install it with apt-get install -y maven")
    if libs.exists():
        shutil.rmtree(libs)
    command = [
        mvn, "-B", "-f", str(POM), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={libs}",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None  # noqa: S101
    downloaded = 0
    tail: list[str] = []
    for line in process.stdout:
        tail = [*tail[-30:], line.rstrip()]
        if "Downloaded from" in line:
            downloaded += 1
            progress(f"Kafka jars: {downloaded} artifacts downloaded")
        elif "Copying" in line:
            progress(f"Kafka jars: {line.strip()[:70]}")
    if process.wait() != 0:
        raise StackError("mvn could not fetch the Kafka jars:\n" + "\n".join(tail))
    stamp.write_text(digest)
    return libs


def cluster_id() -> str:
    """A random KRaft cluster id, in Kafka's own form (url-safe base64 of 16 bytes)."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):  # as Kafka's own Uuid: "-" would read as an option
            return candidate


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("java is missing: install it with apt-get install -y default-jre-headless")
    return java


def configure(
    folder: Path,
    ports: KafkaPorts,
    partitions: int = 6,
    node_id: int = 1,
    voters: Mapping[int, KafkaPorts] | None = None,
) -> Path:
    """Write server.properties and log4j2.yaml for a node on loopback: alone, or `node_id` of
    the cluster whose nodes (ids and ports) `voters` lists."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (folder / "log4j2.yaml").write_text(LOG4J2)
    brokers = len(voters) if voters else 1
    copies, insync = replication_factor(brokers), min_insync_replicas(brokers)
    if voters and brokers > 1:
        quorum = ",".join(f"{i}@{LOOPBACK}:{p.controller}" for i, p in sorted(voters.items()))
        quorum_line = f"controller.quorum.voters={quorum}"
    else:
        quorum_line = f"controller.quorum.bootstrap.servers={LOOPBACK}:{ports.controller}"
    lines = [
        "process.roles=broker,controller",
        f"node.id={node_id}",
        quorum_line,
        f"listeners=PLAINTEXT://{LOOPBACK}:{ports.broker},"
        f"CONTROLLER://{LOOPBACK}:{ports.controller}",
        f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{ports.broker},"
        f"CONTROLLER://{LOOPBACK}:{ports.controller}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={partitions}",
        f"offsets.topic.replication.factor={copies}",
        "offsets.topic.num.partitions=1",
        f"transaction.state.log.replication.factor={copies}",
        f"transaction.state.log.min.isr={insync}",
        f"share.coordinator.state.topic.replication.factor={copies}",
        f"share.coordinator.state.topic.min.isr={insync}",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.retention.hours=-1",
    ]
    if brokers > 1:
        lines += [f"default.replication.factor={copies}", f"min.insync.replicas={insync}"]
    properties = folder / "server.properties"
    properties.write_text("\n".join([*lines, ""]))
    return properties


def format_storage(folder: Path, libs: Path, properties: Path, cluster: str | None = None) -> None:
    """Format the log directory once; later runs keep the data (--ignore-formatted). A node of
    a cluster is given the cluster's id; a single node makes its own, as the only voter."""
    marker = folder / "data" / "meta.properties"
    if marker.exists():
        return
    command = [
        _java(), "-Xmx256M", "-cp", f"{libs}/*",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.yaml'}",
        "kafka.tools.StorageTool", "format", *([] if cluster else ["--standalone"]),
        "-t", cluster or cluster_id(), "-c", str(properties), "--ignore-formatted",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")


def running(folder: Path) -> int | None:
    """The pid of a broker running from the stack's `server.properties`, whoever started it."""
    return find_process(MARKER, str(folder / "server.properties"))


def launch(folder: Path, libs: Path, properties: Path, log_file: Path) -> int:
    """Start a broker without waiting for it; return its pid."""
    command = [
        _java(), "-Xms256M", "-Xmx768M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        f"-Dkafka.logs.dir={folder / 'logs'}",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.yaml'}",
        "-cp", f"{libs}/*", MARKER, str(properties),
    ]  # fmt: skip
    return spawn(command, log_file)


def start(folder: Path, libs: Path, properties: Path, ports: KafkaPorts, log_file: Path) -> int:
    """Start the broker and wait until its listener answers; return its pid."""
    pid = launch(folder, libs, properties, log_file)
    wait_until(lambda: port_answers(ports.broker), 90, "Kafka broker", log_file)
    return pid


@dataclass(frozen=True)
class Cluster:
    """A local KRaft cluster: node `i` (1..n) is a broker and a controller, in `folder/node-i`,
    on the ports `nodes[i]`, all formatted with one cluster id."""

    folder: Path
    libs: Path
    nodes: Mapping[int, KafkaPorts]
    cluster: str
    partitions: int = 6

    @property
    def bootstrap(self) -> str:
        return ",".join(self.nodes[i].bootstrap for i in sorted(self.nodes))

    def node_folder(self, node: int) -> Path:
        return self.folder / f"node-{node}"

    def log_file(self, node: int) -> Path:
        return self.node_folder(node) / "kafka.log"

    def launch(self, node: int, log_file: Path | None = None) -> int:
        """Configure (and format, the first time) node `node` and start it; return its pid.
        Its listener answers once a quorum of controllers is up: see `wait_listening`."""
        folder = self.node_folder(node)
        properties = configure(folder, self.nodes[node], self.partitions, node, self.nodes)
        format_storage(folder, self.libs, properties, self.cluster)
        return launch(folder, self.libs, properties, log_file or self.log_file(node))

    def wait_listening(self, node: int, timeout: float = 90) -> None:
        port = self.nodes[node].broker
        wait_until(lambda: port_answers(port), timeout, f"Kafka node {node}", self.log_file(node))

    def running(self, node: int) -> int | None:
        return running(self.node_folder(node))


async def wait_for_brokers(bootstrap: str, count: int, timeout: float = 120) -> None:
    """Until the cluster's metadata lists `count` live brokers (topics with `count` replicas can
    be created only then)."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            seen = len((await admin.describe_cluster())["brokers"])
            if seen >= count:
                return
        except Exception as exc:  # noqa: BLE001 - not ready yet: asked again
            log.debug("cluster not ready yet: %r", exc)
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.5)
    raise StackError(f"the Kafka cluster at {bootstrap} lists {seen} of {count} brokers")
