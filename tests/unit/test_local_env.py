"""Commands find the local stack's settings, and a refused connection names the setting."""

from __future__ import annotations

from pathlib import Path

from aiokafka.errors import KafkaConnectionError

from iprwatch import local_env
from shared.unavailable import describe


def test_the_stack_settings_fill_what_the_environment_lacks(tmp_path: Path) -> None:
    env_file = tmp_path / "stack.env"
    env_file.write_text(
        "export IPRWATCH_PG_DSN=postgresql://postgres@127.0.0.1:15432/iprwatch\n"
        "export IPRWATCH_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092\n"
        "export OTHER=ignored\n"
        "# ingest: http://127.0.0.1:8001\n"
    )
    environ = {"IPRWATCH_KAFKA_BOOTSTRAP_SERVERS": "broker:9092"}
    assert local_env.adopt(env_file, environ) == ["IPRWATCH_PG_DSN"]
    assert environ == {
        "IPRWATCH_KAFKA_BOOTSTRAP_SERVERS": "broker:9092",  # an explicit setting wins
        "IPRWATCH_PG_DSN": "postgresql://postgres@127.0.0.1:15432/iprwatch",
    }
    assert local_env.adopt(tmp_path / "missing.env", environ) == []


def test_a_refused_connection_names_the_setting_without_the_password() -> None:
    environ = {"IPRWATCH_PG_DSN": "postgresql://app:secret@db:5432/iprwatch"}
    refused = OSError("Multiple exceptions: [Errno 111] Connect call failed ('db', 5432)")
    message = describe(refused, environ)
    assert message == (
        "cannot reach PostgreSQL (Multiple exceptions: [Errno 111] Connect call failed "
        "('db', 5432)); it is configured by IPRWATCH_PG_DSN=postgresql://app:***@db:5432/iprwatch"
        ": start the local stack with `make up`, or set it to where yours runs"
    )
    kafka = describe(KafkaConnectionError("Unable to bootstrap"), {})
    assert kafka is not None
    assert "IPRWATCH_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 (the default)" in kafka
    assert describe(ValueError("other"), {}) is None
