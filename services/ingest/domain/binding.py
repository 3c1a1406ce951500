"""The CloudEvents HTTP protocol binding: a request's content type, headers and body, to raw
events (dicts still to be validated), in structured, batched, binary or plain JSON mode.

Pure: the HTTP layer hands in strings and bytes and turns these exceptions into 4xx answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"
ACCEPTED_TYPES = (STRUCTURED, BATCH, JSON)
HEADER_PREFIX = "ce-"


class BadRequest(ValueError):
    """The body cannot be read as events (malformed JSON, wrong shape): HTTP 400."""


class UnsupportedMediaType(ValueError):
    """The content type is not one of the CloudEvents JSON modes: HTTP 415."""


class TooManyEvents(ValueError):
    """More events in one request than the limit: HTTP 413."""


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"malformed JSON: {name} is not a JSON value")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body strictly (no NaN or Infinity)."""
    if not body.strip():
        raise BadRequest("malformed JSON: the body is empty")
    try:
        parsed = json.loads(body, parse_constant=_reject_constant)
    except BadRequest:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BadRequest(f"malformed JSON: {exc.msg} at {where}") from None
    except UnicodeDecodeError as exc:
        raise BadRequest(f"malformed JSON: the body is not UTF-8 ({exc.reason})") from exc
    except RecursionError as exc:
        raise BadRequest("malformed JSON: nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise BadRequest(f"malformed JSON: {exc}") from exc
    return parsed  # a lone surrogate in a string is the contract's to refuse (422)


def binary_attributes(headers: Mapping[str, str]) -> dict[str, str]:
    """The `ce-` headers of a binary-mode request, percent-decoded, without the prefix; raise
    BadRequest for a header whose percent-encoding is not UTF-8 (nothing is guessed)."""
    attributes: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower().startswith(HEADER_PREFIX):
            try:
                attributes[name[len(HEADER_PREFIX) :].lower()] = unquote(value, errors="strict")
            except UnicodeDecodeError:
                raise BadRequest(f"header {name[:64]!r} is not percent-encoded UTF-8") from None
    return attributes


def raw_events(
    content_type: str | None, headers: Mapping[str, str], body: bytes, max_events: int
) -> list[Any]:
    """The raw events a request carries, by mode; raise BadRequest, UnsupportedMediaType or
    TooManyEvents with a message that says what to send instead."""
    kind = media_type(content_type)
    attributes = binary_attributes(headers)
    if attributes and kind not in (STRUCTURED, BATCH):
        if kind != JSON:
            raise UnsupportedMediaType(
                f"binary mode carries `data` as {JSON}; got content type {kind or 'none'!r}"
            )
        data = parse_json(body)
        return [{**attributes, "datacontenttype": JSON, "data": data}]
    if kind not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"content type {kind or 'none'!r} is not accepted; send one of "
            f"{', '.join(ACCEPTED_TYPES)} (or binary mode: {JSON} data with ce- headers)"
        )
    parsed = parse_json(body)
    if kind == STRUCTURED and not isinstance(parsed, dict):
        raise BadRequest(
            f"structured mode ({STRUCTURED}) carries one event, a JSON object; "
            f"send several as a JSON array with {BATCH}"
        )
    if kind == BATCH and not isinstance(parsed, list):
        raise BadRequest(f"batched mode ({BATCH}) carries a JSON array of events")
    if not isinstance(parsed, dict | list):
        raise BadRequest("the body must be an event (a JSON object) or an array of events")
    events = parsed if isinstance(parsed, list) else [parsed]
    if len(events) > max_events:
        raise TooManyEvents(f"{len(events)} events in one request; the limit is {max_events}")
    return events
