"""The event contract: CloudEvents 1.0 that registry systems push, one model per type.

Every service reads and writes events through this module and nothing else: the envelope
(`CloudEvent`), the typed `data` of each event type, one frozen envelope class per type
(`TYPED_EVENTS`, e.g. `InventionGrantedEvent`), an example of each type (`EXAMPLES`), and the
wire forms (JSON for HTTP, binary mode with `ce_` headers for Kafka and HTTP).

The contract is version 1 (`CONTRACT_VERSION`, topic `ipr.events.v1`): a change that is not
backward compatible gets new type names and a new topic.
"""

from __future__ import annotations

from shared.events.data import (
    DATA_MODELS,
    EVENT_TYPES,
    EventData,
    InventionGranted,
    RevenueReported,
)
from shared.events.envelope import TYPED_EVENTS, CloudEvent, UnknownEventType, parse_event
from shared.events.examples import EXAMPLES
from shared.events.fields import (
    CONTRACT_VERSION,
    EARLIEST_ACT,
    SPEC_VERSION,
    TYPE_PREFIX,
    UNSTORABLE,
    storable,
)
from shared.events.wire import from_kafka, to_kafka

__all__ = [
    "CONTRACT_VERSION",
    "DATA_MODELS",
    "EARLIEST_ACT",
    "UNSTORABLE",
    "EVENT_TYPES",
    "EXAMPLES",
    "SPEC_VERSION",
    "TYPED_EVENTS",
    "TYPE_PREFIX",
    "CloudEvent",
    "EventData",
    "InventionGranted",
    "RevenueReported",
    "UnknownEventType",
    "from_kafka",
    "parse_event",
    "storable",
    "to_kafka",
]
