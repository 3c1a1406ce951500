"""The repository contracts on the in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.alerts.service.ports import Repositories
from tests.unit.alerts import contracts
from tests.unit.alerts.fakes import memory_repositories


class InMemory:
    @pytest.fixture
    async def repos(self) -> AsyncIterator[Repositories]:
        yield memory_repositories()


class TestMemorySeries(InMemory, contracts.SeriesContract):
    pass


class TestMemoryAlerts(InMemory, contracts.AlertsContract):
    pass


class TestMemoryConclusions(InMemory, contracts.ConclusionsContract):
    pass


class TestMemorySendLog(InMemory, contracts.SendLogContract):
    pass


class TestMemorySilences(InMemory, contracts.SilencesContract):
    pass
