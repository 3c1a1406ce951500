"""Optional read tokens: open by default, bearer / cookie / query token when set."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.read_access import COOKIE, ReadAccessSettings


def _app(tokens: str | None) -> TestClient:
    access = ReadAccessSettings(read_tokens=SecretStr(tokens) if tokens else None).access()
    app = FastAPI()

    @app.get("/v1/things", dependencies=[Depends(access.guard())])
    async def things() -> dict[str, int]:
        return {"n": 1}

    return TestClient(app)


def test_open_when_no_token_is_configured() -> None:
    assert _app(None).get("/v1/things").status_code == 200


def test_bearer_cookie_or_query_token_when_configured() -> None:
    client = _app("alpha, beta")
    refused = client.get("/v1/things")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/things", headers={"authorization": "Bearer beta"}).status_code == 200
    assert client.get("/v1/things", headers={"authorization": "Bearer gamma"}).status_code == 401
    assert client.get("/v1/things?token=alpha").status_code == 200
    client.cookies.set(COOKIE, "alpha")
    assert client.get("/v1/things").status_code == 200
