"""The local Kafka's configuration: one node alone, or a node of a three-node cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from iprwatch.stack import kafka
from iprwatch.stack.stack import Endpoints, kafka_count, kafka_names, supervised
from iprwatch.stack.state import Part, StackState
from shared.settings import KafkaSettings


def properties(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text().splitlines() if line)
    return {key: value for key, _, value in pairs}


def test_a_single_node_is_its_own_quorum_and_keeps_one_copy(tmp_path: Path) -> None:
    written = properties(kafka.configure(tmp_path, kafka.KafkaPorts(9092, 9093)))
    assert written["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in written
    assert written["offsets.topic.replication.factor"] == "1"
    assert "min.insync.replicas" not in written


def test_a_node_of_three_names_every_voter_and_needs_two_in_sync_copies(tmp_path: Path) -> None:
    nodes = {i: kafka.KafkaPorts(9000 + 2 * i, 9001 + 2 * i) for i in (1, 2, 3)}
    cluster = kafka.Cluster(tmp_path, tmp_path / "libs", nodes, "abc")
    written = properties(kafka.configure(cluster.node_folder(2), nodes[2], node_id=2, voters=nodes))
    assert written["node.id"] == "2"
    assert written["controller.quorum.voters"] == (
        "1@127.0.0.1:9003,2@127.0.0.1:9005,3@127.0.0.1:9007"
    )
    assert written["listeners"] == "PLAINTEXT://127.0.0.1:9004,CONTROLLER://127.0.0.1:9005"
    assert written["default.replication.factor"] == "3"
    assert written["offsets.topic.replication.factor"] == "3"
    assert written["transaction.state.log.min.isr"] == "2"
    assert written["min.insync.replicas"] == "2"
    assert cluster.bootstrap == "127.0.0.1:9002,127.0.0.1:9004,127.0.0.1:9006"


@pytest.mark.parametrize(("brokers", "copies", "insync"), [(1, 1, 1), (3, 3, 2), (5, 3, 2)])
def test_the_settings_the_stack_hands_out(brokers: int, copies: int, insync: int) -> None:
    endpoints = Endpoints("127.0.0.1:1", "postgresql://x", 25, brokers=brokers)
    env = endpoints.service_env()
    assert env["IPRWATCH_KAFKA_REPLICATION_FACTOR"] == str(copies)
    assert env["IPRWATCH_KAFKA_MIN_INSYNC_REPLICAS"] == str(insync)
    assert (endpoints.kafka.replication_factor, endpoints.kafka.min_insync_replicas) == (
        copies,
        insync,
    )


def test_more_in_sync_copies_than_copies_is_refused() -> None:
    with pytest.raises(ValidationError, match="MIN_INSYNC_REPLICAS"):
        KafkaSettings(replication_factor=1, min_insync_replicas=2)


def test_the_supervisor_tends_each_node_of_a_cluster() -> None:
    assert kafka_names(1) == ["kafka"]
    state = StackState({n: Part(n, 1, 1, "-", "") for n in ["postgres", *kafka_names(3)]})
    assert kafka_count(state) == 3
    assert supervised(state)[:5] == ["postgres", "kafka-1", "kafka-2", "kafka-3", "smtp"]
    assert supervised(StackState())[:3] == ["postgres", "kafka", "smtp"]
