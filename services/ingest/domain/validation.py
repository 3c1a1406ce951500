"""Turning a request body into contract events, or into a list of per-event, per-field errors.

Pure: no framework here. A batch is validated whole, so a caller can publish all or nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from shared.events import CloudEvent

CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class EventProblem:
    index: int
    id: str | None
    field: str
    problem: str


class InvalidEvents(Exception):
    """Some events of a request are not valid: nothing of the request may be published."""

    def __init__(self, problems: Sequence[EventProblem]) -> None:
        super().__init__(f"{len(problems)} invalid event(s)")
        self.problems = list(problems)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "event"


def validate_events(
    raw_events: Sequence[Any], district_codes: Collection[str], now: datetime
) -> list[CloudEvent]:
    """Validate every raw event; raise `InvalidEvents` listing each problem of each bad one."""
    context = {"district_codes": district_codes, "latest_time": now + CLOCK_SKEW}
    events: list[CloudEvent] = []
    problems: list[EventProblem] = []
    for index, raw in enumerate(raw_events):
        event_id = raw.get("id") if isinstance(raw, dict) else None
        event_id = event_id if isinstance(event_id, str) else None
        if not isinstance(raw, dict):
            problems.append(EventProblem(index, None, "event", "must be a JSON object"))
            continue
        try:
            events.append(CloudEvent.model_validate(raw, context=context))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(p for p in error["loc"] if not str(p).endswith("Data"))
                problems.append(EventProblem(index, event_id, _field_path(loc), error["msg"]))
    if problems:
        raise InvalidEvents(problems)
    return events
