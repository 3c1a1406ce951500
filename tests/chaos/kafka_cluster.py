"""A three-node Kafka cluster of one test module's own, whose nodes it may SIGKILL and restart.

The nodes are the stack's (`iprwatch.stack.kafka.Cluster`, the same jars as the session's
broker): each a broker and a controller, a 3-voter quorum, topics with 3 replicas and
`min.insync.replicas` 2.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from iprwatch.stack import kafka
from iprwatch.stack.processes import free_port, is_alive, stop
from shared.settings import KafkaSettings

BROKERS = 3


@dataclass
class OwnCluster:
    spec: kafka.Cluster
    pids: dict[int, int] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return self.spec.bootstrap

    def settings(self, prefix: str) -> KafkaSettings:
        """Settings naming topics of a test's own (`prefix`), replicated as the stack does."""
        return KafkaSettings(
            bootstrap_servers=self.bootstrap,
            events_topic=f"{prefix}.events",
            indicators_topic=f"{prefix}.indicators",
            dead_letter_topic=f"{prefix}.dlq",
            partitions=3,
            replication_factor=kafka.replication_factor(BROKERS),
            min_insync_replicas=kafka.min_insync_replicas(BROKERS),
        )

    def start(self, *nodes: int) -> None:
        """Start `nodes` (all by default) and wait until each listens."""
        nodes = nodes or tuple(self.spec.nodes)
        for node in nodes:
            self.pids[node] = self.spec.launch(node)
        for node in nodes:
            self.spec.wait_listening(node, timeout=180)

    def kill(self, node: int) -> None:
        stop(self.pids[node], kafka.MARKER, sig=signal.SIGKILL, timeout=30)
        assert not is_alive(self.pids[node])

    def stop_all(self) -> None:
        """SIGTERM to every node at once (none waits for a quorum the others' end breaks)."""
        for pid in self.pids.values():
            if is_alive(pid, kafka.MARKER):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        for pid in self.pids.values():
            stop(pid, kafka.MARKER, timeout=30)


async def leaders(settings: KafkaSettings, topic: str, timeout: float = 5.0) -> dict[int, int]:
    """partition -> leader node of `topic`, as the cluster's metadata says now (-1: none)."""
    return {
        p: leader for p, (leader, _) in (await partition_state(settings, topic, timeout)).items()
    }


async def partition_state(
    settings: KafkaSettings, topic: str, timeout: float = 5.0
) -> dict[int, tuple[int, list[int]]]:
    """partition -> (leader, in-sync replicas) of `topic`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers,
                                request_timeout_ms=int(timeout * 1000))  # fmt: skip
    try:
        await asyncio.wait_for(admin.start(), timeout)
        described = await asyncio.wait_for(admin.describe_topics([topic]), timeout)
    finally:
        with suppress(Exception):
            await admin.close()
    return {
        p["partition"]: (p["leader"], list(p["isr"])) for t in described for p in t["partitions"]
    }


def busiest_leader(by_partition: dict[int, int]) -> int:
    """The node that leads the most partitions (the lowest partition's leader on a tie)."""
    counts = Counter(by_partition.values())
    most = max(counts.values())
    return next(by_partition[p] for p in sorted(by_partition) if counts[by_partition[p]] == most)


@contextmanager
def own_cluster(folder: Path, libs: Path) -> Iterator[OwnCluster]:
    taken: set[int] = set()
    nodes: dict[int, kafka.KafkaPorts] = {}
    for node in range(1, BROKERS + 1):
        broker = free_port(taken=taken)
        controller = free_port(taken=taken | {broker})
        taken |= {broker, controller}
        nodes[node] = kafka.KafkaPorts(broker, controller)
    cluster = OwnCluster(kafka.Cluster(folder, libs, nodes, kafka.cluster_id(), partitions=3))
    try:
        cluster.start()
        asyncio.run(kafka.wait_for_brokers(cluster.bootstrap, BROKERS))
        yield cluster
    finally:
        cluster.stop_all()
