"""Turning a request body into contract events, or into a list of per-event, per-field errors.

Pure: no framework here. A batch is validated whole, so a caller can publish all or nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from services.ingest.domain.grants import TokenGrant
from shared.events import DATA_MODELS, SPEC_VERSION, CloudEvent, UnknownEventType, parse_event

CLOCK_SKEW = timedelta(minutes=10)
UNKNOWN_TYPE = "unknown"
MAX_LISTED = 100  # problems listed in an answer; the answer gives the total as well
ID_CHARS, FIELD_CHARS, PROBLEM_CHARS = 64, 128, 256  # what an answer echoes of each, at most


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (marked with `…`), any lone surrogate escaped: an answer
    stays small and encodable whatever a request holds."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.encode("utf-8", "backslashreplace").decode()


@dataclass(frozen=True)
class EventProblem:
    index: int
    id: str | None
    field: str
    problem: str
    reason: str = dataclasses.field(default="invalid", compare=False)  # a bounded metric label

    def to_json(self) -> dict[str, Any]:
        """The problem as an answer lists it: the event's id, field and message clipped."""
        return {
            "index": self.index,
            "id": None if self.id is None else clip(self.id, ID_CHARS),
            "field": clip(self.field, FIELD_CHARS),
            "problem": clip(self.problem, PROBLEM_CHARS),
        }


def listed(problems: Sequence[EventProblem]) -> list[dict[str, Any]]:
    """The first `MAX_LISTED` problems, as an answer lists them."""
    return [problem.to_json() for problem in problems[:MAX_LISTED]]


class InvalidEvents(Exception):
    """Some events of a request are not valid: nothing of the request may be published."""

    def __init__(self, problems: Sequence[EventProblem], events: int) -> None:
        message = f"{len({p.index for p in problems})} of {events} event(s) are invalid"
        if len(problems) > MAX_LISTED:
            message += f"; the first {MAX_LISTED} of {len(problems)} problems are listed"
        super().__init__(message)
        self.problems = list(problems)
        self.events = events


class OutOfScope(Exception):
    """The token may not write some events of the request (their `source` or `type`)."""

    def __init__(self, grant: TokenGrant, problems: Sequence[EventProblem]) -> None:
        message = f"token {grant.name!r} may not send {len(problems)} of these event(s)"
        if len(problems) > MAX_LISTED:
            message += f"; the first {MAX_LISTED} are listed"
        super().__init__(message)
        self.grant = grant
        self.problems = list(problems)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "event"


def _problem_of(index: int, event_id: str | None, error: ErrorDetails) -> EventProblem:
    loc = tuple(error["loc"])
    path = _field_path(loc)
    kind = error["type"]
    message = error["msg"].removeprefix("Value error, ")
    reason = "invalid_data" if loc[:1] == ("data",) else "invalid_envelope"
    if loc == ("specversion",):
        given = clip(repr(error["input"]), 40)
        message = f'specversion must be "{SPEC_VERSION}" (CloudEvents 1.0), got {given}'
        reason = "bad_specversion"
    elif kind == "missing" or (loc == ("subject",) and error["input"] is None):
        message = "required" if loc != ("subject",) else "required: the right's number"
    elif kind == "extra_forbidden":
        message = f"unknown {'data field' if reason == 'invalid_data' else 'attribute'} {path!r}"
    return EventProblem(index, event_id, path, message, reason)


def validate_events(
    raw_events: Sequence[Any],
    district_codes: Collection[str],
    now: datetime,
    reported_indicators: Collection[str] | None = None,
    report_codes: Collection[str] | None = None,
) -> list[CloudEvent]:
    """Validate every raw event; raise `InvalidEvents` listing each problem of each bad one."""
    context: dict[str, Any] = {"district_codes": district_codes, "latest_time": now + CLOCK_SKEW}
    if reported_indicators is not None:
        context["reported_indicators"] = reported_indicators
    if report_codes is not None:
        context["report_codes"] = report_codes
    events: list[CloudEvent] = []
    problems: list[EventProblem] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            problems.append(EventProblem(index, None, "event", "must be a JSON object", "invalid"))
            continue
        event_id = raw.get("id")
        event_id = event_id if isinstance(event_id, str) else None
        try:
            events.append(parse_event(raw, context))
        except UnknownEventType as exc:
            problems.append(EventProblem(index, event_id, "type", str(exc), "unknown_type"))
        except ValidationError as exc:
            problems.extend(_problem_of(index, event_id, e) for e in exc.errors(include_url=False))
    if problems:
        raise InvalidEvents(problems, len(raw_events))
    return events


def check_scope(raw_events: Sequence[Any], grant: TokenGrant) -> None:
    """Raise `OutOfScope` for every event whose `source` or `type` the token may not send.

    Events whose `source` or `type` is not a string are left to `validate_events`.
    """
    if grant.allows_everything:
        return
    problems: list[EventProblem] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            continue
        event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        source, event_type = raw.get("source"), raw.get("type")
        if isinstance(source, str) and not grant.allows_source(source):
            message = f"token {grant.name!r} may not send source {clip(repr(source), 80)}"
            problems.append(EventProblem(index, event_id, "source", message, "forbidden_source"))
        if isinstance(event_type, str) and not grant.allows_type(event_type):
            message = f"token {grant.name!r} may not send type {clip(repr(event_type), 80)}"
            problems.append(EventProblem(index, event_id, "type", message, "forbidden_type"))
    if problems:
        raise OutOfScope(grant, problems)


def type_label(raw: Any) -> str:
    """The event type for a metric label: a contract type, or `unknown` (labels stay bounded)."""
    value = raw.get("type") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value in DATA_MODELS else UNKNOWN_TYPE
