"""Read tokens on the JSON APIs and the board; bounded, paged reads; probes stay open."""

from __future__ import annotations

import httpx
import pytest

from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import produce, wait_folded
from tests.integration.indicators.stream import generate

pytestmark = pytest.mark.integration


async def test_read_tokens_guard_the_apis_and_the_board_works_in_a_browser(
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IPRWATCH_READ_TOKENS", "first-token, second-token")
    await produce(kafka_settings, generate(200, seed=21).records)
    app = create_app(indicators_settings)
    dsn = postgres_settings.dsn.get_secret_value()
    async with app.router.lifespan_context(app):
        await wait_folded(dsn, db_schema, kafka_settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/v1/indicators", "/v1/districts", "/v1/plan", "/"):
                refused = await client.get(path)
                assert refused.status_code == 401, path
                assert refused.headers["www-authenticate"].startswith("Bearer")
            assert (await client.get("/", params={"token": "wrong"})).status_code == 401
            for path in ("/healthz", "/readyz", "/metrics"):
                assert (await client.get(path)).status_code == 200, path
            bearer = {"Authorization": "Bearer second-token"}
            assert (await client.get("/v1/plan", headers=bearer)).status_code == 200
            # the browser: ?token= once sets the cookie and leads back to the page without it
            opened = await client.get("/", params={"token": "first-token", "lang": "zh"})
            assert opened.status_code == 303
            assert opened.headers["location"] == "/?lang=zh"
            cookie = opened.headers["set-cookie"].lower()
            assert cookie.startswith("iprwatch_read=first-token;")
            assert "httponly" in cookie and "samesite=strict" in cookie
            board = await client.get("/", headers={"Cookie": "iprwatch_read=first-token"})
            assert board.status_code == 200 and "渝北区" in board.text
            # bounded and paged reads
            page = await client.get(
                "/v1/indicators", params={"limit": 100, "offset": 500}, headers=bearer
            )
            body = page.json()
            assert (body["total"], len(body["items"]), body["next_offset"]) == (507, 7, None)
            first = (
                await client.get("/v1/indicators", params={"limit": 10}, headers=bearer)
            ).json()
            assert (len(first["items"]), first["next_offset"]) == (10, 10)
            too_many = await client.get("/v1/indicators", params={"limit": 5000}, headers=bearer)
            assert too_many.status_code == 422
            far = await client.get(
                "/v1/series",
                params={"district": "500000", "indicator": "valid_invention_patents",
                        "to": "9999-12"},
                headers=bearer,
            )  # fmt: skip
            assert far.status_code == 422 and "outside the plans' years" in far.json()["detail"]
            widest = await client.get(
                "/v1/series",
                params={"district": "500000", "indicator": "valid_invention_patents",
                        "from": "2010-01", "to": "2040-12", "plan": "chongqing-14th-fyp"},
                headers=bearer,
            )  # fmt: skip
            # a plan's months only: 2021-01 to its target month 2025-12
            assert widest.status_code == 200 and len(widest.json()["points"]) == 60
