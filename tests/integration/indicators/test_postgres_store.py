"""The PostgreSQL adapters keep the store contract (`tests/unit/indicators/contracts.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.indicators.adapters.fold_store import PostgresFoldStore
from services.indicators.adapters.outbox import PostgresOutbox
from services.indicators.adapters.schema import migrate
from services.indicators.adapters.totals import PostgresTotals
from shared.postgres import create_pool
from shared.settings import PostgresSettings
from tests.unit.indicators.contracts import StoreContract, Stores

pytestmark = pytest.mark.integration


class TestPostgresStore(StoreContract):
    @pytest.fixture
    async def stores(
        self, postgres_settings: PostgresSettings, db_schema: str
    ) -> AsyncIterator[Stores]:
        pool = await create_pool(postgres_settings, db_schema)
        try:
            await migrate(pool)
            totals = PostgresTotals(pool)
            yield Stores(PostgresFoldStore(pool), PostgresOutbox(pool), totals, totals)
        finally:
            await pool.close()
