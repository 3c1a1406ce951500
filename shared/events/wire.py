"""Events on Kafka: binary-mode CloudEvents, `data` as the JSON value and the attributes as
`ce_` headers (`to_kafka`, `from_kafka`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic_core import to_jsonable_python

from shared.cloudevents import HeaderList, attributes, binary_headers
from shared.events.envelope import CloudEvent


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, HeaderList]:
    """Binary content mode for Kafka: key = district code, value = data, `ce_` headers."""
    time = to_jsonable_python(event.time)
    headers = binary_headers(event.id, event.source, event.type, time, event.subject)
    data = event.data
    return (
        data.district.encode(),
        data.__pydantic_serializer__.to_json(data, exclude_none=True),
        headers,
    )


def from_kafka(value: bytes, headers: Iterable[tuple[str, bytes]]) -> CloudEvent:
    """Parse a Kafka record written by `to_kafka`; raises pydantic.ValidationError or ValueError."""
    raw: dict[str, Any] = {**attributes(headers), "data": json.loads(value)}
    return CloudEvent.model_validate(raw)
