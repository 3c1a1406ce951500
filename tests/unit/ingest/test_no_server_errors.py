"""No input may produce a 5xx: bodies generated from the OpenAPI request schemas, arbitrary
JSON, arbitrary bytes, content types and `ce-` headers, each posted to the real app."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.entrypoints.http import create_app
from services.ingest.settings import IngestSettings
from shared.events import EXAMPLES

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/cloudevents+json",
        "application/cloudevents-batch+json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/cloudevents+json; charset=latin-1",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
ATTRIBUTES = [
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "data",
    "datacontenttype",
    "extra",
]


def request_schemas(app: FastAPI) -> tuple[dict[str, Any], dict[str, Any]]:
    """(media type -> request body schema, the spec's component schemas) from /openapi.json."""
    spec = app.openapi()
    content = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    return {media: body["schema"] for media, body in content.items()}, spec["components"]


def from_schema(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values following a JSON schema of the kind pydantic writes (refs, oneOf/anyOf, objects
    with required and optional properties, bounded strings and numbers, date-times)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return from_schema(components["schemas"][name], components)  # the refs do not recurse
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(s, components) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = {
            n: from_schema(s, components)
            for n, s in properties.items()
            if n in schema.get("required", [])
        }
        optional = {
            n: from_schema(s, components) for n, s in properties.items() if n not in required
        }
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "array":
        return st.lists(from_schema(schema["items"], components), max_size=5)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        return st.floats(
            low,
            high,
            allow_nan=False,
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
        )
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 300), 300)
        )
    return JSON_VALUES


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.status_code in (202, 400, 401, 403, 413, 415, 422), response.text


@pytest.fixture
def sync_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> None:
    assert_no_server_error(client.post("/v1/events", content=body, headers=headers))


MUTATED = st.builds(
    lambda base, name, value: {**base, name: value},
    st.sampled_from(list(EXAMPLES.values())),
    st.sampled_from(ATTRIBUTES),
    JSON_VALUES,
)
BODIES = (
    st.lists(MUTATED, max_size=5).map(lambda v: json.dumps(v).encode())
    | MUTATED.map(lambda v: json.dumps(v).encode())
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CE_HEADERS = st.dictionaries(
    st.sampled_from(ATTRIBUTES).map(lambda a: f"ce-{a}"), HEADER_VALUES, min_size=1
)


@functools.cache
def schema_requests() -> st.SearchStrategy[tuple[str, Any]]:
    """(media type, body) pairs drawn from the published OpenAPI request schemas."""
    schemas, components = request_schemas(create_app(IngestSettings()))
    return st.one_of(
        [
            st.tuples(st.just(media), from_schema(schema, components))
            for media, schema in sorted(schemas.items())
        ]
    )


@FUZZ
@given(data=st.data())
def test_bodies_generated_from_the_openapi_schema(
    sync_client: TestClient, auth: dict[str, str], data: st.DataObject
) -> None:
    media, body = data.draw(schema_requests())
    post(sync_client, json.dumps(body).encode(), {**auth, "Content-Type": media})


@FUZZ
@given(body=BODIES, media=CONTENT_TYPES)
def test_mutated_examples_arbitrary_json_and_bytes(
    sync_client: TestClient, auth: dict[str, str], body: bytes, media: str
) -> None:
    post(sync_client, body, {**auth, "Content-Type": media})


@FUZZ
@given(ce=CE_HEADERS, data=JSON_VALUES, media=CONTENT_TYPES)
def test_arbitrary_binary_mode_headers(
    sync_client: TestClient, auth: dict[str, str], ce: dict[str, str], data: Any, media: str
) -> None:
    post(sync_client, json.dumps(data).encode(), {**auth, **ce, "Content-Type": media})
