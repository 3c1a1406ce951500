"""What the indicators' HTTP routes share: the problem answers they document, the bounds on
days and months, and the cache of answers computed for the current ledgers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar, cast

from fastapi import HTTPException
from pydantic import BaseModel

from shared.plans import PlanSet

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_DAY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
YEARS_AROUND_PLAN = 10


class Problem(BaseModel):
    """Why a request was refused: a sentence, or FastAPI's list of invalid parameters."""

    detail: str | list[dict[str, Any]]


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        401: "A read token is required (IPRWATCH_READ_TOKENS is set).",
        404: "Unknown plan, district or indicator.",
        422: "A parameter is invalid or outside the plan's years.",
        503: "The database is unavailable; retry after `Retry-After` seconds.",
    }
    return {code: {"model": Problem, "description": meaning[code]} for code in codes}


READ_ERRORS = _problems(401, 422, 503)
PLAN_ERRORS = _problems(401, 404, 422, 503)
LOOKUP_ERRORS = _problems(401, 404, 422, 503)
# an HTML page's errors are JSON all the same
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": answer["description"],
           "content": {"application/json": {"schema": Problem.model_json_schema()}}}
    for code, answer in LOOKUP_ERRORS.items()
}  # fmt: skip


class Bounds:
    """The days a request may ask about: the plans' years, widened by ten on each side."""

    def __init__(self, plans: PlanSet) -> None:
        self.first_year = min(p.baseline_date.year for p in plans) - YEARS_AROUND_PLAN
        self.last_year = max(p.target_date.year for p in plans) + YEARS_AROUND_PLAN
        years = "|".join(str(y) for y in range(self.first_year, self.last_year + 1))
        # for the OpenAPI document (and its fuzzers): a month or a day of an allowed year
        self.pattern = rf"^({years})-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"

    def day(self, text: str | None, name: str, end_of_month: bool = False) -> date | None:
        if text is None:
            return None
        month, day = _MONTH.match(text), _DAY.match(text)
        found = month or day
        if found is None:
            raise HTTPException(422, f"{name} must be a date YYYY-MM-DD or a month YYYY-MM")
        year = int(found.group(1))
        if not self.first_year <= year <= self.last_year:
            raise HTTPException(
                422,
                f"{name} {text!r} is outside the plans' years: from {self.first_year}-01 to"
                f" {self.last_year}-12",
            )
        try:
            if month is not None:
                first = date(year, int(month.group(2)), 1)
                if not end_of_month:
                    return first
                following = date(year + (first.month == 12), first.month % 12 + 1, 1)
                return date.fromordinal(following.toordinal() - 1)
            return date.fromisoformat(text)
        except ValueError:
            raise HTTPException(422, f"{name} {text!r} is not a calendar date") from None


T = TypeVar("T")


class AnswerCache:
    """Answers computed for the current ledgers, by request; emptied when they change.

    Readers asking the same thing again (a board on a wall, a dashboard's poll, a client in a
    loop) cost a dictionary look-up until the next fold changes the totals. The computing runs
    in a worker thread, so that the fold's event loop is never held by a reader.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.ledgers: object = None
        self.answers: dict[Hashable, Any] = {}

    async def get(self, ledgers: object, key: Hashable, compute: Callable[[], T]) -> T:
        if ledgers is not self.ledgers:
            self.ledgers, self.answers = ledgers, {}
        if key in self.answers:
            return cast(T, self.answers[key])
        answer = await asyncio.to_thread(compute)
        if ledgers is self.ledgers:
            if len(self.answers) >= self.size:
                self.answers.pop(next(iter(self.answers)))
            self.answers[key] = answer
        return answer
