"""Fakes for the ingest service's ports, and the app running on them (no broker needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.ingest.adapters.tokens import TokenStore
from services.ingest.bootstrap import Ingest
from services.ingest.entrypoints.http import create_app
from services.ingest.metrics import IngestMetrics
from services.ingest.service.intake import EventIntake
from services.ingest.service.ports import BrokerUnavailable
from services.ingest.settings import IngestSettings
from shared.events import CloudEvent
from shared.plans import load_plans


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[CloudEvent] = []
        self.down = False

    async def publish(self, events: Sequence[CloudEvent]) -> None:
        if self.down:
            raise BrokerUnavailable("the fake broker is down")
        self.published.extend(events)


class FakeProducer:
    def __init__(self, publisher: FakePublisher) -> None:
        self.publisher = publisher


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def metrics() -> IngestMetrics:
    return IngestMetrics()


@pytest.fixture
def tokens(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "tokens.json")


@pytest.fixture
def settings(tmp_path: Path) -> IngestSettings:
    return IngestSettings(tokens_file=tmp_path / "tokens.json", max_body_bytes=256 * 1024)


@pytest.fixture
def app(settings: IngestSettings, metrics: IngestMetrics, publisher: FakePublisher) -> FastAPI:
    @asynccontextmanager
    async def start(s: IngestSettings, m: IngestMetrics) -> AsyncIterator[Ingest]:
        plans = load_plans()
        intake = EventIntake(plans, publisher, m)
        yield Ingest(s, plans, FakeProducer(publisher), intake, m, TokenStore(s.tokens_file))

    return create_app(settings, metrics, start)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


@pytest.fixture
def token(tokens: TokenStore) -> str:
    """A token allowed every source and type."""
    return tokens.add("all", ["*"], ["*"])


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
