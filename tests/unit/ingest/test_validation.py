"""Validation of whole requests: every event type, every class of bad event, per-field errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.domain.grants import TokenGrant
from services.ingest.domain.validation import (
    InvalidEvents,
    OutOfScope,
    check_scope,
    validate_events,
)
from shared.events import EVENT_TYPES, EXAMPLES, TYPED_EVENTS, CloudEvent, from_kafka, to_kafka
from shared.plan import default_plan_path, load_plan

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CODES = load_plan(default_plan_path()).district_codes


def example(event_type: str = "cn.ipr.patent.invention.granted", **changes: Any) -> dict[str, Any]:
    event = dict(EXAMPLES[event_type])
    data = changes.pop("data", None)
    if data is not None:
        event["data"] = {**event["data"], **data}
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def problems_of(events: list[Any]) -> list[tuple[int, str | None, str, str]]:
    with pytest.raises(InvalidEvents) as caught:
        validate_events(events, CODES, NOW)
    return [(p.index, p.id, p.field, p.problem) for p in caught.value.problems]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_has_a_valid_example_typed_by_its_class(event_type: str) -> None:
    [event] = validate_events([EXAMPLES[event_type]], CODES, NOW)
    assert type(event) is TYPED_EVENTS[event_type]
    assert isinstance(event, CloudEvent)
    assert event.type == event_type
    key, _, headers = to_kafka(event)
    assert key == EXAMPLES[event_type]["data"]["district"].encode()
    assert dict(headers)["ce_type"] == event_type.encode()


@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if not t.endswith(".reported")])
def test_right_events_need_a_subject(event_type: str) -> None:
    assert problems_of([example(event_type, subject=None)]) == [
        (0, EXAMPLES[event_type]["id"], "subject", "required: the right's number")
    ]


def test_revenue_reports_need_no_subject() -> None:
    [event] = validate_events([EXAMPLES["cn.ipr.service.revenue.reported"]], CODES, NOW)
    assert event.subject is None


@pytest.mark.parametrize(
    ("event", "field", "problem"),
    [
        (
            example(type="cn.ipr.patent.utility.granted"),
            "type",
            "unknown event type 'cn.ipr.patent.utility.granted': not one of the 15 types",
        ),
        (example(type=None), "type", "type is missing"),
        (example(type=7), "type", "type must be a string, got int"),
        (
            example(specversion="0.3"),
            "specversion",
            "specversion must be \"1.0\" (CloudEvents 1.0), got '0.3'",
        ),
        (
            example(time="1984-12-31T00:00:00+08:00"),
            "time",
            "time 1984-12-31T00:00:00+08:00 is before 1985-01-01",
        ),
        (
            example(time="2026-01-01T08:11:00+08:00"),
            "time",
            "time 2026-01-01T08:11:00+08:00 is in the future",
        ),
        (
            example(time="2023-05-12T00:00:00"),
            "time",
            "time must be an RFC 3339 date-time with its offset, e.g. 2023-05-12T00:00:00+08:00",
        ),
        (
            example(data={"district": "500199"}),
            "data.district",
            "unknown district code '500199': not a division of any plan",
        ),
        (
            example(data={"district": "110101"}),  # Beijing's 东城区: real, not in the plan
            "data.district",
            "unknown district code '110101': not a division of any plan",
        ),
        (
            example(data={"district": "5001١١"}),  # Arabic-Indic digits are no GB/T 2260 code
            "data.district",
            "String should match pattern '^[0-9]{6}$'",
        ),
        (example(data={"colour": "red"}), "data.colour", "unknown data field 'data.colour'"),
        (example(colour="red"), "colour", "unknown attribute 'colour'"),
        (example(id=None), "id", "required"),
        (example(id="x" * 257), "id", "String should have at most 256 characters"),
        (example(subject=""), "subject", "String should have at least 1 character"),
        (
            example("cn.ipr.finance.pledge.registered", data={"amount_cny": 0}),
            "data.amount_cny",
            "Input should be greater than 0",
        ),
        (
            example("cn.ipr.finance.pledge.registered", data={"amount_cny": -5}),
            "data.amount_cny",
            "Input should be greater than 0",
        ),
        (
            example("cn.ipr.service.revenue.reported", data={"amount_cny": -1}),
            "data.amount_cny",
            "Input should be greater than or equal to 0",
        ),
        (
            example("cn.ipr.patent.invention.transferred", data={"from_district": "500112"}),
            "data",
            "from_district equals district: a transfer must move the right",
        ),
        (
            example("cn.ipr.copyright.work.registered", data={"category": "c" * 65}),
            "data.category",
            "String should have at most 64 characters",
        ),
        (
            example("cn.ipr.patent.invention.reclassified", data={"high_value": None}),
            "data.high_value",
            "Input should be a valid boolean",
        ),
        (
            example(data=None, datacontenttype="text/csv"),
            "datacontenttype",
            "Input should be 'application/json'",
        ),
    ],
)
def test_each_bad_event_names_its_field_and_problem(
    event: dict[str, Any], field: str, problem: str
) -> None:
    assert problems_of([event]) == [(0, event.get("id"), field, problem)]


def test_a_batch_lists_every_problem_of_every_bad_event_and_accepts_none() -> None:
    good = example()
    events = [
        good,
        "not an event",
        example(id="b", data={"district": "500199"}),
        good,
        example(id="d", specversion="2.0", subject=None),
    ]
    assert problems_of(events) == [
        (1, None, "event", "must be a JSON object"),
        (2, "b", "data.district", "unknown district code '500199': not a division of any plan"),
        (4, "d", "specversion", "specversion must be \"1.0\" (CloudEvents 1.0), got '2.0'"),
        (4, "d", "subject", "required: the right's number"),
    ]


def test_a_small_clock_skew_is_tolerated() -> None:
    [event] = validate_events([example(time="2026-01-01T08:05:00+08:00")], CODES, NOW)
    assert event.time == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def test_scope_refuses_sources_and_types_outside_the_grant() -> None:
    grant = TokenGrant("trademarks", ("/registries/cnipa/trademarks*",), ("cn.ipr.trademark.*",))
    allowed = example("cn.ipr.trademark.registered", source="/registries/cnipa/trademarks")
    check_scope([allowed], grant)
    patent = example(source="/registries/cnipa/trademarks")
    elsewhere = example("cn.ipr.trademark.lapsed", id="t2", source="/registries/samr")
    with pytest.raises(OutOfScope) as caught:
        check_scope([allowed, patent, elsewhere], grant)
    assert [(p.index, p.field, p.problem) for p in caught.value.problems] == [
        (1, "type", "token 'trademarks' may not send type 'cn.ipr.patent.invention.granted'"),
        (2, "source", "token 'trademarks' may not send source '/registries/samr'"),
    ]


@pytest.mark.parametrize("time", ["2023-05-12T00:00:00+08:00", "2023-05-12T00:00:00Z",
                                  "2023-05-12T10:11:12.345678-05:30"])  # fmt: skip
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_kafka_record_is_the_contracts_binary_mode(event_type: str, time: str) -> None:
    [event] = validate_events([example(event_type, time=time)], CODES, NOW)
    attributes = event.model_dump(mode="json", exclude_none=True)
    key, value, headers = to_kafka(event)
    names = ("specversion", "id", "source", "type", "subject", "time")
    assert headers == [
        *((f"ce_{name}", str(attributes[name]).encode()) for name in names if name in attributes),
        ("content-type", b"application/json"),
    ]
    assert key == attributes["data"]["district"].encode()
    assert json.loads(value) == attributes["data"]
    assert from_kafka(value, headers).to_json() == event.to_json()
