"""Test harness: the stack's own Kafka, PostgreSQL and mail sink, started once per session.

Each integration test gets fresh topics and a fresh database schema; unit tests need neither
(these fixtures are lazy: a unit-only run starts nothing).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from iprwatch.stack.home import REPO_ROOT, StackHome
from iprwatch.stack.postgres import remove_cluster
from iprwatch.stack.processes import is_alive
from iprwatch.stack.stack import Endpoints, Stack
from shared.settings import KafkaSettings, PostgresSettings
from tests.support.services import RunningServices, start_services


def _say(message: str) -> None:
    print(f"[stack] {message}")  # noqa: T201 - shown with pytest -s


TEST_HOMES = REPO_ROOT / ".iprwatch" / "pytest"


def _sweep_stale_homes() -> None:
    """Stop and remove what crashed earlier test sessions left behind (their pid is gone)."""
    if not TEST_HOMES.exists():
        return
    for folder in TEST_HOMES.iterdir():
        if folder.name.isdigit() and not is_alive(int(folder.name)):
            Stack(StackHome(folder), say=_say).down()
            remove_cluster(StackHome(folder).postgres)
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_home() -> StackHome:
    """One folder per test session (several sessions may run side by side)."""
    return StackHome(TEST_HOMES / str(os.getpid()))


@pytest.fixture(scope="session")
def infra(stack_home: StackHome) -> Iterator[Endpoints]:
    """The real broker, database and SMTP server, fresh for this session."""
    _sweep_stale_homes()
    stack = Stack(stack_home, say=_say, well_known_ports=False)
    endpoints = stack.up_infra()
    yield endpoints
    stack.down()
    remove_cluster(stack_home.postgres)
    shutil.rmtree(stack_home.root, ignore_errors=True)


@pytest.fixture(scope="session")
def cjk_font() -> str:
    """The charts' CJK font, installed with apt where missing (as `make up` does); its file."""
    from iprwatch.stack import system
    from shared.charts import cjk_font_file

    system.ensure([system.CJK_FONT, system.PANGO, system.POPPLER], say=_say)
    return cjk_font_file()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def kafka_settings(infra: Endpoints, unique: str) -> KafkaSettings:
    """Settings naming topics of this test's own."""
    return KafkaSettings(
        bootstrap_servers=infra.kafka_bootstrap,
        events_topic=f"t{unique}.events",
        indicators_topic=f"t{unique}.indicators",
        dead_letter_topic=f"t{unique}.dlq",
        partitions=3,
    )


@pytest.fixture
def postgres_settings(infra: Endpoints) -> PostgresSettings:
    return PostgresSettings(dsn=SecretStr(infra.postgres_dsn))


@pytest.fixture
async def db_schema(postgres_settings: PostgresSettings, unique: str) -> AsyncIterator[str]:
    """A schema of this test's own, dropped afterwards."""
    name = f"t_{unique}"
    yield name
    conn = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await conn.execute(f"DROP SCHEMA IF EXISTS {name}_alerts CASCADE")
    finally:
        await conn.close()


@pytest.fixture
def mail_folder(stack_home: StackHome, infra: Endpoints) -> Path:
    return stack_home.mail


@pytest.fixture
def services(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> Iterator[RunningServices]:
    """The three services, running against this test's topics and schemas."""
    with start_services(infra, kafka_settings, db_schema, tmp_path) as running:
        yield running
