"""The repository contracts on PostgreSQL (the stack's real database, a schema per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.alerts.adapters.schema import migrate
from services.alerts.bootstrap import repositories_of
from services.alerts.service.ports import Repositories
from shared.postgres import create_pool
from shared.settings import PostgresSettings
from tests.unit.alerts import contracts

pytestmark = pytest.mark.integration


class OnPostgres:
    @pytest.fixture
    async def repos(
        self, postgres_settings: PostgresSettings, db_schema: str
    ) -> AsyncIterator[Repositories]:
        pool = await create_pool(postgres_settings, f"{db_schema}_alerts")
        try:
            await migrate(pool)
            yield repositories_of(pool)
        finally:
            await pool.close()


class TestPostgresSeries(OnPostgres, contracts.SeriesContract):
    pass


class TestPostgresAlerts(OnPostgres, contracts.AlertsContract):
    pass


class TestPostgresConclusions(OnPostgres, contracts.ConclusionsContract):
    pass


class TestPostgresSendLog(OnPostgres, contracts.SendLogContract):
    pass


class TestPostgresSilences(OnPostgres, contracts.SilencesContract):
    pass
