"""The OpenAPI description of `POST /v1/events`: every event type's schema and an example of each,
in each content mode."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from services.ingest.domain.binding import BATCH, JSON, STRUCTURED
from shared.events import EXAMPLES, TYPED_EVENTS

REF = "#/components/schemas/{model}"


def event_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the schema of one event: oneOf the typed events, the component schemas it refers to)."""
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (model, "validation") for model in TYPED_EVENTS.values()
    ]
    refs, top = models_json_schema(models, ref_template=REF)
    one_of = [refs[(model, "validation")] for model in TYPED_EVENTS.values()]
    mapping = {name: refs[(model, "validation")]["$ref"] for name, model in TYPED_EVENTS.items()}
    event = {"oneOf": one_of, "discriminator": {"propertyName": "type", "mapping": mapping}}
    return event, top.get("$defs", {})


ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
PROBLEMS = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "maxItems": 100,
            "description": "the first 100 problems; ids, fields and messages clipped",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "id": {"type": ["string", "null"], "maxLength": 64},
                    "field": {"type": "string", "maxLength": 128},
                    "problem": {"type": "string", "maxLength": 256},
                },
                "required": ["index", "id", "field", "problem"],
            },
        },
        "total": {"type": "integer", "minimum": 1, "description": "problems in all"},
    },
    "required": ["detail", "errors", "total"],
}
NO_ANSWER = (
    "A request answered 503, or one that gets no answer at all (the connection broke, the "
    "service stopped), may have been published in part: send it again. Acts count once: the "
    "indicators count an event once by (`source`, `id`) and an act once by its natural key, so "
    "a repeat is harmless."
)


def _error(
    description: str,
    example: dict[str, Any],
    schema: dict[str, Any] = ERROR,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": schema, "example": example}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def with_plan_districts(schema: dict[str, Any], codes: Collection[str]) -> dict[str, Any]:
    """The document with each district field listing the plan's codes (a code of the right
    shape that names no division of the plan, such as the city's own, is refused)."""
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name in ("district", "from_district"):
            field = component.get("properties", {}).get(name)
            if field is not None:
                field.pop("pattern", None)
                field["enum"] = sorted(codes)
    return schema


def ready_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """`/readyz` answers 503 while Kafka is unreachable: say so, with the body's shape."""
    body = {
        "type": "object",
        "properties": {
            "ready": {"type": "boolean"},
            "checks": {"type": "object", "additionalProperties": {"type": "boolean"}},
        },
        "required": ["ready", "checks"],
    }
    content = {JSON: {"schema": body}}
    schema["paths"]["/readyz"]["get"]["responses"] = {
        "200": {"description": "Every dependency answers.", "content": content},
        "503": {"description": "Some dependency does not answer (named in `checks`).",
                "content": content},
    }  # fmt: skip
    return schema


def operation() -> tuple[dict[str, Any], dict[str, Any]]:
    """(`openapi_extra` of the route: request body and responses, the component schemas)."""
    event, components = event_schemas()
    examples = {
        name.removeprefix("cn.ipr."): {"summary": name, "value": value}
        for name, value in EXAMPLES.items()
    }
    batch_example = {"all types": {"summary": "one of each type", "value": list(EXAMPLES.values())}}
    batch = {"type": "array", "items": event, "maxItems": 10_000}
    body = {
        "required": True,
        "description": (
            "CloudEvents 1.0 in structured mode (one event), batched mode (an array, up to "
            "10,000) or plain JSON (either); binary mode: `ce-` headers and `data` as the "
            "`application/json` body."
        ),
        "content": {
            STRUCTURED: {"schema": event, "examples": examples},
            BATCH: {"schema": batch, "examples": batch_example},
            JSON: {"schema": {"oneOf": [event, batch]}, "examples": examples},
        },
    }
    problem = {"index": 0, "id": "cnipa-2023-0512-000123", "field": "data.district",
               "problem": "unknown district code '500199': not a division of any plan"}  # fmt: skip
    challenge = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    retry = {"Retry-After": {"schema": {"type": "integer"}, "required": True}}
    responses = {
        "202": {
            "description": "Kafka holds every event of the request.",
            "content": {JSON: {"schema": {
                "type": "object", "properties": {"accepted": {"type": "integer", "minimum": 0}},
                "required": ["accepted"]}, "example": {"accepted": 2}}},
        },
        "400": _error("Malformed JSON, the wrong shape for the mode, or a `ce-` header that is "
                      "not percent-encoded UTF-8.", {"detail": "malformed JSON: ..."}),
        "401": _error("No token, or an unknown one.", {"detail": "missing bearer token"},
                      headers=challenge),
        "403": _error("The token may not send these sources or types.",
                      {"detail": "outside the token's scope", "errors": [problem], "total": 1},
                      PROBLEMS),
        "408": _error("Headers or body not received within their deadlines; the connection "
                      "is closed.", {"detail": "request not received in time"}),
        "413": _error("Body over the size limit, or more than 10,000 events (`maxItems`).",
                      {"detail": "10001 events in one request; the limit is 10000"}),
        "415": _error("Not a CloudEvents JSON content type.", {"detail": "content type ..."}),
        "422": _error("Invalid events; nothing was published.",
                      {"detail": "1 of 2 event(s) are invalid", "errors": [problem], "total": 1},
                      PROBLEMS),
        "503": _error("Kafka is unreachable; retry after `Retry-After` seconds.",
                      {"detail": "Kafka is unavailable"}, headers=retry),
    }  # fmt: skip
    security: list[dict[str, list[str]]] = [{"bearer": []}]
    return {"requestBody": body, "responses": responses, "security": security}, components
