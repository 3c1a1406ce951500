"""The in-memory store keeps the store contract (so unit tests on it say what PostgreSQL does)."""

from __future__ import annotations

import pytest

from tests.unit.indicators.contracts import StoreContract, Stores
from tests.unit.indicators.fakes import MemoryStore


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def stores(self) -> Stores:
        store = MemoryStore()
        return Stores(store, store, store, store)
