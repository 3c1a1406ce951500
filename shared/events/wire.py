"""Events on Kafka: binary-mode CloudEvents, `data` as the JSON value and the attributes as
`ce_` headers (`to_kafka`, `from_kafka`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic_core import to_jsonable_python

from shared.events.envelope import CloudEvent
from shared.events.fields import SPEC_VERSION

HeaderList = list[tuple[str, bytes]]
_SPECVERSION_HEADER = ("ce_specversion", SPEC_VERSION.encode())
_CONTENT_TYPE_HEADER = ("content-type", b"application/json")


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, HeaderList]:
    """Binary content mode for Kafka: key = district code, value = data, `ce_` headers."""
    # specversion and datacontenttype can each hold one value only (Literal): their headers
    # are made once. Ingest calls this for every event it publishes.
    headers: HeaderList = [
        _SPECVERSION_HEADER,
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
    ]
    if event.subject is not None:
        headers.append(("ce_subject", event.subject.encode()))
    headers.append(("ce_time", to_jsonable_python(event.time).encode()))
    headers.append(_CONTENT_TYPE_HEADER)
    data = event.data
    return (
        data.district.encode(),
        data.__pydantic_serializer__.to_json(data, exclude_none=True),
        headers,
    )


def from_kafka(value: bytes, headers: Iterable[tuple[str, bytes]]) -> CloudEvent:
    """Parse a Kafka record written by `to_kafka`; raises pydantic.ValidationError or ValueError."""
    raw: dict[str, Any] = {}
    for name, header_value in headers:
        if name.startswith("ce_"):
            raw[name[3:]] = header_value.decode()
    raw["data"] = json.loads(value)
    return CloudEvent.model_validate(raw)
