"""POST /v1/events through the real app, with a fake publisher at the Kafka port."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.ingest.adapters.tokens import TokenStore
from shared.events import EVENT_TYPES, EXAMPLES
from tests.unit.ingest.conftest import FakePublisher

BATCH = "application/cloudevents-batch+json"
MISSING = "missing bearer token: send `Authorization: Bearer <token>`"
STRUCTURED = "application/cloudevents+json"


def event(
    n: int, event_type: str = "cn.ipr.patent.invention.granted", **changes: Any
) -> dict[str, Any]:
    return {**EXAMPLES[event_type], "id": f"e-{n}", **changes}


async def post(
    client: httpx.AsyncClient, body: Any, headers: dict[str, str], content_type: str = BATCH
) -> httpx.Response:
    return await client.post(
        "/v1/events", content=json.dumps(body), headers={**headers, "Content-Type": content_type}
    )


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def test_a_batch_of_every_type_is_published_whole(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher
) -> None:
    response = await post(client, list(EXAMPLES.values()), auth)
    assert (response.status_code, response.json()) == (202, {"accepted": len(EVENT_TYPES)})
    assert [e.type for e in publisher.published] == list(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
async def test_structured_and_plain_json_modes(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher, event_type: str
) -> None:
    structured = await post(client, EXAMPLES[event_type], auth, STRUCTURED)
    plain = await post(client, EXAMPLES[event_type], auth, "application/json")
    assert (structured.status_code, structured.json()) == (202, {"accepted": 1})
    assert (plain.status_code, plain.json()) == (202, {"accepted": 1})
    assert [e.type for e in publisher.published] == [event_type, event_type]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
async def test_binary_mode(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher, event_type: str
) -> None:
    example = EXAMPLES[event_type]
    headers = {
        f"ce-{name}": quote(str(example[name]))
        for name in ("specversion", "id", "source", "type", "subject", "time")
        if name in example
    }
    response = await client.post(
        "/v1/events",
        content=json.dumps(example["data"]),
        headers={**auth, **headers, "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (202, {"accepted": 1})
    [published] = publisher.published
    assert published.to_json() == {**example}


async def test_one_bad_event_refuses_the_whole_batch_with_every_problem(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher
) -> None:
    events = [event(0), event(1, data={"district": "500199"}), event(2), event(3, type="x.y")]
    response = await post(client, events, auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "2 of 4 event(s) are invalid",
        "errors": [
            {
                "index": 1,
                "id": "e-1",
                "field": "data.district",
                "problem": "unknown district code '500199': not a division of any plan",
            },
            {
                "index": 3,
                "id": "e-3",
                "field": "type",
                "problem": "unknown event type 'x.y': not one of the 15 types",
            },
        ],
        "total": 2,
    }
    assert publisher.published == []
    metrics = samples((await client.get("/metrics")).text, "ipr_ingest_events_rejected_total")
    granted = "cn.ipr.patent.invention.granted"
    assert metrics == {
        (("reason", "batch_rejected"), ("type", granted)): 2.0,
        (("reason", "invalid_data"), ("type", granted)): 1.0,
        (("reason", "unknown_type"), ("type", "unknown")): 1.0,
    }


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, MISSING),
        ({"Authorization": "Basic abc"}, MISSING),
        ({"Authorization": "Bearer "}, MISSING),
        ({"Authorization": "Bearer iprw_not-a-token"}, "unknown or revoked token"),
    ],
)
async def test_no_or_a_bad_token_is_401(
    client: httpx.AsyncClient, token: str, headers: dict[str, str], detail: str
) -> None:
    response = await post(client, [event(0)], headers)
    assert (response.status_code, response.json()) == (401, {"detail": detail})
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_without_any_token_configured_the_401_says_how_to_add_one(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, [event(0)], {"Authorization": "Bearer whatever"})
    assert response.status_code == 401
    assert "iprwatch tokens add NAME --source SOURCE --type TYPE" in response.json()["detail"]


async def test_a_revoked_token_is_refused_at_once(
    client: httpx.AsyncClient, tokens: TokenStore, auth: dict[str, str]
) -> None:
    tokens.add("other", ["*"], ["*"])
    assert (await post(client, [event(0)], auth)).status_code == 202
    tokens.revoke("all")
    assert (await post(client, [event(1)], auth)).status_code == 401


async def test_the_trademark_registry_cannot_send_patent_events(
    client: httpx.AsyncClient, tokens: TokenStore, publisher: FakePublisher
) -> None:
    token = tokens.add("samr-trademarks", ["/registries/trademark*"], ["cn.ipr.trademark.*"])
    auth = {"Authorization": f"Bearer {token}"}
    mark = event(0, "cn.ipr.trademark.registered")
    ok = await post(client, [mark], auth)
    refused = await post(client, [mark, event(1, source="/registries/trademark")], auth)
    assert (ok.status_code, ok.json()) == (202, {"accepted": 1})
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {
            "index": 1,
            "id": "e-1",
            "field": "type",
            "problem": "token 'samr-trademarks' may not send type "
            "'cn.ipr.patent.invention.granted'",
        }
    ]
    assert len(publisher.published) == 1


@pytest.mark.parametrize(
    ("content_type", "body", "status", "detail"),
    [
        ("text/plain", b"hello", 415, "content type 'text/plain' is not accepted"),
        ("application/json", b"{", 400, "malformed JSON: Expecting property name"),
        (STRUCTURED, b"[]", 400, "structured mode (application/cloudevents+json) carries one"),
        (BATCH, b"x" * (256 * 1024 + 1), 413, "body of 262145 bytes is over the limit"),
        (BATCH, json.dumps([{}] * 10_001).encode(), 413, "10001 events in one request"),
    ],
)
async def test_each_bad_request_gets_its_own_status_and_message(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    content_type: str,
    body: bytes,
    status: int,
    detail: str,
) -> None:
    response = await client.post(
        "/v1/events", content=body, headers={**auth, "Content-Type": content_type}
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]


async def test_a_streamed_body_over_the_limit_is_413(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    async def chunks() -> Any:
        for _ in range(300):
            yield b" " * 1024

    response = await client.post(
        "/v1/events", content=chunks(), headers={**auth, "Content-Type": BATCH}
    )
    assert (response.status_code, response.json()["detail"]) == (
        413,
        "body over the limit of 262144 bytes",
    )


async def test_an_unavailable_broker_is_503_with_retry_after(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher
) -> None:
    publisher.down = True
    response = await post(client, [event(0), event(1)], auth)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    metrics = samples((await client.get("/metrics")).text, "ipr_ingest_events_rejected_total")
    granted = "cn.ipr.patent.invention.granted"
    assert metrics == {(("reason", "broker_unavailable"), ("type", granted)): 2.0}


async def test_request_ids_and_http_metrics(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    given = await client.post(
        "/v1/events", json=[event(0)], headers={**auth, "X-Request-ID": "r-1"}
    )
    made = await client.post("/v1/events", json=[event(1)], headers=auth)
    await client.post("/v1/events", json=[event(2)])
    assert given.headers["x-request-id"] == "r-1"
    assert len(made.headers["x-request-id"]) == 32
    text = (await client.get("/metrics")).text
    assert samples(text, "ipr_ingest_http_requests_total") == {
        (("method", "POST"), ("route", "/v1/events"), ("status", "202")): 2.0,
        (("method", "POST"), ("route", "/v1/events"), ("status", "401")): 1.0,
    }
    assert samples(text, "ipr_ingest_events_accepted_total") == {
        (("type", "cn.ipr.patent.invention.granted"),): 2.0
    }
    assert samples(text, "ipr_ingest_publish_duration_seconds_count") == {(): 2.0}


async def test_openapi_has_an_example_of_every_type(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert set(body) == {STRUCTURED, BATCH, "application/json"}
    examples = body[STRUCTURED]["examples"]
    assert {e["value"]["type"] for e in examples.values()} == set(EVENT_TYPES)
    mapping = body[STRUCTURED]["schema"]["discriminator"]["mapping"]
    for ref in mapping.values():
        assert ref.removeprefix("#/components/schemas/") in spec["components"]["schemas"]
    responses = spec["paths"]["/v1/events"]["post"]["responses"]
    assert {"202", "400", "401", "403", "413", "415", "422", "503"} <= set(responses)


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")  # the fake producer has no broker behind it
    assert (ready.status_code, ready.json()) == (503, {"ready": False, "checks": {"kafka": False}})


async def test_each_write_is_logged_as_json_with_its_request_id(
    client: httpx.AsyncClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    from shared.telemetry import JsonFormatter

    caplog.set_level("INFO", logger="services.ingest.http")
    await client.post("/v1/events", json=[event(0)], headers={**auth, "X-Request-ID": "abc-1"})
    await client.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "services.ingest.http"]
    line = json.loads(JsonFormatter("ingest").format(record))
    assert (line["request_id"], line["message"], line["status"]) == (
        "abc-1",
        "POST /v1/events -> 202",
        202,
    )
