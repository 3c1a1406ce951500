"""The OpenAPI description of `POST /v1/events`: every event type's schema and an example of each,
in each content mode."""

from __future__ import annotations

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


def _error(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"example": example}}}


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
               "problem": "unknown district code '500199': not a division of the plan"}  # fmt: skip
    responses = {
        "202": {
            "description": "Kafka holds every event of the request.",
            "content": {JSON: {"example": {"accepted": 2}}},
        },
        "400": _error("Malformed JSON or the wrong shape.", {"detail": "malformed JSON: ..."}),
        "401": _error("No token, or an unknown one.", {"detail": "missing bearer token"}),
        "403": _error("The token may not send these sources or types.",
                      {"detail": "outside the token's scope", "errors": [problem]}),
        "413": _error("Body or batch over the limit.", {"detail": "body over 16777216 bytes"}),
        "415": _error("Not a CloudEvents JSON content type.", {"detail": "content type ..."}),
        "422": _error("Invalid events; nothing was published.",
                      {"detail": "1 of 2 event(s) are invalid", "errors": [problem]}),
        "503": _error("Kafka is unreachable; retry after `Retry-After` seconds.",
                      {"detail": "Kafka is unavailable"}),
    }  # fmt: skip
    return {"requestBody": body, "responses": responses}, components
