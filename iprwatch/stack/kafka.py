"""A single-node Apache Kafka 4.x broker (KRaft) assembled from Maven Central jars."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    find_process,
    port_answers,
    spawn,
    wait_until,
)

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


def configure(folder: Path, ports: KafkaPorts, partitions: int = 6) -> Path:
    """Write server.properties and log4j2.yaml for a single node on loopback."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (folder / "log4j2.yaml").write_text(LOG4J2)
    properties = folder / "server.properties"
    properties.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={LOOPBACK}:{ports.controller}",
                f"listeners=PLAINTEXT://{LOOPBACK}:{ports.broker},"
                f"CONTROLLER://{LOOPBACK}:{ports.controller}",
                f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{ports.broker},"
                f"CONTROLLER://{LOOPBACK}:{ports.controller}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={data}",
                f"num.partitions={partitions}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "log.retention.hours=-1",
                "",
            ]
        )
    )
    return properties


def format_storage(folder: Path, libs: Path, properties: Path) -> None:
    """Format the log directory once; later runs keep the data (--ignore-formatted)."""
    marker = folder / "data" / "meta.properties"
    if marker.exists():
        return
    command = [
        _java(), "-Xmx256M", "-cp", f"{libs}/*",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.yaml'}",
        "kafka.tools.StorageTool", "format", "--standalone",
        "-t", cluster_id(), "-c", str(properties), "--ignore-formatted",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")


def running(folder: Path) -> int | None:
    """The pid of a broker running from the stack's `server.properties`, whoever started it."""
    return find_process(MARKER, str(folder / "server.properties"))


def start(folder: Path, libs: Path, properties: Path, ports: KafkaPorts, log_file: Path) -> int:
    """Start the broker and wait until its listener answers; return its pid."""
    command = [
        _java(), "-Xms256M", "-Xmx768M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        f"-Dkafka.logs.dir={folder / 'logs'}",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.yaml'}",
        "-cp", f"{libs}/*", MARKER, str(properties),
    ]  # fmt: skip
    pid = spawn(command, log_file)
    wait_until(lambda: port_answers(ports.broker), 90, "Kafka broker", log_file)
    return pid
