"""CloudEvents 1.0 in Kafka's binary content mode, for every event this system puts on Kafka
(registrations on ipr.events.v1, indicator changes on ipr.indicators.v1): the attributes as
`ce_` headers, `content-type: application/json`, the data as the record's value."""

from __future__ import annotations

from collections.abc import Iterable

SPEC_VERSION = "1.0"
HeaderList = list[tuple[str, bytes]]
# specversion and the content type hold one value only: their headers are made once (ingest
# makes headers for every event it publishes).
SPECVERSION_HEADER = ("ce_specversion", SPEC_VERSION.encode())
CONTENT_TYPE_HEADER = ("content-type", b"application/json")


def binary_headers(
    event_id: str, source: str, event_type: str, time: str, subject: str | None = None
) -> HeaderList:
    """The headers of one event, in the order CloudEvents lists the attributes."""
    headers: HeaderList = [
        SPECVERSION_HEADER,
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
    ]
    if subject is not None:
        headers.append(("ce_subject", subject.encode()))
    headers.append(("ce_time", time.encode()))
    headers.append(CONTENT_TYPE_HEADER)
    return headers


def attributes(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The CloudEvents attributes of a record's headers, without their `ce_` prefix."""
    return {name[3:]: raw.decode() for name, raw in headers if name.startswith("ce_")}
