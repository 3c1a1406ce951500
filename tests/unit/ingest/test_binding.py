"""The CloudEvents HTTP binding: which body shapes each content type accepts."""

from __future__ import annotations

import pytest

from services.ingest.domain.binding import (
    BadRequest,
    TooManyEvents,
    UnsupportedMediaType,
    raw_events,
)

EVENT = b'{"id": "a"}'


@pytest.mark.parametrize(
    ("content_type", "body", "count"),
    [
        ("application/cloudevents+json", EVENT, 1),
        ("application/cloudevents+json; charset=utf-8", EVENT, 1),
        ("application/cloudevents-batch+json", b"[" + EVENT + b"," + EVENT + b"]", 2),
        ("application/cloudevents-batch+json", b"[]", 0),
        ("application/json", EVENT, 1),
        ("Application/JSON", b"[" + EVENT + b"]", 1),
    ],
)
def test_modes(content_type: str, body: bytes, count: int) -> None:
    assert len(raw_events(content_type, {}, body, 10)) == count


def test_binary_mode_takes_attributes_from_percent_encoded_headers() -> None:
    headers = {"ce-id": "x1", "CE-Subject": "%E6%B8%9D%E4%BD%9C", "content-length": "2"}
    assert raw_events("application/json", headers, b'{"district": "500112"}', 10) == [
        {
            "id": "x1",
            "subject": "渝作",
            "datacontenttype": "application/json",
            "data": {"district": "500112"},
        }
    ]


@pytest.mark.parametrize(
    ("content_type", "headers", "body", "error", "message"),
    [
        (None, {}, EVENT, UnsupportedMediaType, "content type 'none' is not accepted"),
        ("text/plain", {}, EVENT, UnsupportedMediaType, "content type 'text/plain'"),
        ("text/csv", {"ce-id": "x"}, b"a,b", UnsupportedMediaType, "binary mode carries"),
        ("application/json", {}, b"", BadRequest, "the body is empty"),
        ("application/json", {}, b"{", BadRequest, "malformed JSON: Expecting"),
        ("application/json", {}, b'{"a": NaN}', BadRequest, "NaN is not a JSON value"),
        ("application/json", {}, b"\xff\xfe\x00", BadRequest, "malformed JSON"),
        ("application/json", {}, b"[" * 100_000, BadRequest, "malformed JSON"),
        ("application/json", {}, b"1" * 5000, BadRequest, "malformed JSON"),
        ("application/json", {}, b'"text"', BadRequest, "must be an event"),
        ("application/cloudevents+json", {}, b"[]", BadRequest, "carries one event"),
        ("application/cloudevents-batch+json", {}, EVENT, BadRequest, "a JSON array"),
        ("application/json", {}, b"[1,2,3]", TooManyEvents, "3 events in one request"),
    ],
)
def test_bad_bodies_get_their_own_message(
    content_type: str | None,
    headers: dict[str, str],
    body: bytes,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        raw_events(content_type, headers, body, 2)


def test_a_surrogate_pair_is_a_proper_character() -> None:
    assert raw_events("application/json", {}, b'{"s": "\\ud83d\\ude00"}', 1) == [{"s": "😀"}]


def test_a_lone_surrogate_is_left_to_the_contract_which_names_its_field() -> None:
    assert raw_events("application/json", {}, b'{"subject": "a\\ud800"}', 1) == [
        {"subject": "a\ud800"}
    ]
