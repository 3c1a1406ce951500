"""The silences part of the alerts API: list, add (admin), expire (admin).

Every input is bounded (see docs/alerts.md): text is printable (no control characters, no lone
surrogates) and of limited length, times are RFC 3339 with an offset of at most ±14:00 between
the years 2000 and 2099, a silence lasts at most two years.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from services.alerts.domain.silences import Matcher, Silence
from services.alerts.entrypoints.api_common import (
    ADMIN,
    Offset,
    Problem,
    admin,
    limit_query,
    running_service,
)
from services.alerts.service import silencing
from shared.numbers import SHANGHAI

# A silence lasts at most two years: longer is a typo (or 1e12 seconds), not a plan.
MAX_SILENCE = timedelta(days=730)
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset in use (Kiribati)
# No control character (C0, DEL, C1): PostgreSQL cannot hold a NUL, mail headers no line break.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# The same, but a comment may have tabs and line breaks.
PRINTABLE_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("expected an RFC 3339 time with an offset: 2025-01-31T18:00:00+08:00")
    return value


def _sane_time(moment: datetime) -> datetime:
    offset = moment.utcoffset()
    if offset is None or abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("the UTC offset must be between -14:00 and +14:00")
    if not EARLIEST <= moment < LATEST:
        raise ValueError("the time must be between 2000-01-01 and 2099-12-31 (UTC)")
    return moment


def _whole_characters(text: str) -> str:
    """JSON may escape half of a UTF-16 pair (\\ud800): no UTF-8 text can hold it."""
    if _LONE_SURROGATE.search(text):
        raise ValueError("the text holds a lone UTF-16 surrogate (half a character)")
    return text


Text = Annotated[str, AfterValidator(_whole_characters)]
Time = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_sane_time)]


def _valid_regex(matcher: MatcherIn) -> MatcherIn:
    try:
        re.compile(matcher.value)
    except re.error as exc:
        raise ValueError(f"value is not a valid regular expression: {exc}") from None
    return matcher


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    name: Literal["plan", "district", "indicator", "severity"]
    # Always a valid regular expression (so an isRegex matcher can never fail later); a
    # literal value (a district code, an indicator key, a severity) always is one.
    value: Text = Field(min_length=1, max_length=200, pattern=PRINTABLE,
                       json_schema_extra={"format": "regex"})  # fmt: skip
    isRegex: StrictBool = False  # noqa: N815 - Alertmanager's field names
    isEqual: StrictBool = True  # noqa: N815

    @model_validator(mode="after")
    def _regex(self) -> MatcherIn:
        return _valid_regex(self)


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    matchers: list[MatcherIn] = Field(min_length=1, max_length=16)
    createdBy: Text = Field(min_length=1, max_length=100, pattern=PRINTABLE)  # noqa: N815
    comment: Text = Field(min_length=1, max_length=2000, pattern=PRINTABLE_LINES)
    startsAt: Time | None = None  # noqa: N815
    endsAt: Time | None = None  # noqa: N815
    durationSeconds: float | None = Field(  # noqa: N815
        default=None, gt=0, le=MAX_SILENCE.total_seconds(), allow_inf_nan=False, strict=True
    )

    @model_validator(mode="after")
    def _window(self) -> SilenceIn:
        if (self.endsAt is None) == (self.durationSeconds is None):
            raise ValueError("give exactly one of endsAt and durationSeconds")
        now = datetime.now(UTC)
        starts, ends = self.window(now)
        if ends <= now:
            raise ValueError("endsAt must be in the future")
        if ends <= starts:
            raise ValueError("endsAt must be after startsAt (default: now)")
        if ends - starts > MAX_SILENCE:
            raise ValueError("a silence lasts at most 730 days")
        return self

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        starts = self.startsAt or now
        return starts, self.endsAt or starts + timedelta(seconds=self.durationSeconds or 0)


class MatcherOut(BaseModel):
    name: str
    value: str
    isRegex: bool  # noqa: N815
    isEqual: bool  # noqa: N815


class SilenceStatus(BaseModel):
    state: Literal["active", "pending", "expired"]


class SilenceOut(BaseModel):
    id: str
    matchers: list[MatcherOut]
    startsAt: datetime  # noqa: N815
    endsAt: datetime  # noqa: N815
    createdBy: str  # noqa: N815
    comment: str
    status: SilenceStatus


class Expired(BaseModel):
    id: str
    state: Literal["expired"]


def _silence_out(s: Silence, now: datetime) -> SilenceOut:
    state: Literal["active", "pending", "expired"] = (
        "active" if s.active(now) else ("pending" if now < s.starts_at else "expired")
    )
    return SilenceOut(
        id=s.id,
        matchers=[
            MatcherOut(name=m.name, value=m.value, isRegex=m.is_regex, isEqual=m.is_equal)
            for m in s.matchers
        ],  # fmt: skip
        startsAt=s.starts_at.astimezone(SHANGHAI),
        endsAt=s.ends_at.astimezone(SHANGHAI),
        createdBy=s.created_by,
        comment=s.comment,
        status=SilenceStatus(state=state),
    )


def silence_routes(
    router: APIRouter, reading: list[Any], read_responses: dict[int | str, dict[str, Any]]
) -> None:
    @router.get("/silences", dependencies=reading, responses=read_responses,
                operation_id="listSilences")  # fmt: skip
    async def list_silences(
        request: Request, limit: Annotated[int, limit_query(500, 5000)] = 500, offset: Offset = 0
    ) -> list[SilenceOut]:
        """Silences in the order they were made (expired ones too)."""
        alerts = running_service(request)
        now = alerts.clock.now()
        return [
            _silence_out(s, now) for s in await alerts.repositories.silences.silences(limit, offset)
        ]

    made: dict[int | str, dict[str, Any]] = {
        **ADMIN,
        400: {"model": Problem, "description": "the body is not JSON"},
        201: {"description": "the silence, with its id",
              "links": {"ExpireSilence": {"operationId": "expireSilence",
                                          "parameters": {"silence_id": "$response.body#/id"}}}},
    }  # fmt: skip

    @router.post("/silences", dependencies=[Depends(admin)], status_code=201, responses=made,
                 operation_id="addSilence")  # fmt: skip
    async def add_silence(body: SilenceIn, request: Request) -> SilenceOut:
        """Silence the alerts that all matchers match, from `startsAt` (default now) until
        `endsAt` or for `durationSeconds` (exactly one of them; at most 730 days)."""
        alerts = running_service(request)
        now = alerts.clock.now()
        starts, ends = body.window(now)
        matchers = [Matcher(m.name, m.value, m.isRegex, m.isEqual) for m in body.matchers]
        silence = await silencing.add_silence(
            alerts.repositories.silences, matchers, starts, ends, body.createdBy, body.comment
        )
        return _silence_out(silence, now)

    not_found: dict[int | str, dict[str, Any]] = {
        **ADMIN, 404: {"model": Problem, "description": "no such silence, or expired before"},
    }  # fmt: skip

    @router.delete("/silences/{silence_id}", dependencies=[Depends(admin)], responses=not_found,
                   operation_id="expireSilence")  # fmt: skip
    async def expire_silence(
        silence_id: Annotated[uuid.UUID, Path(description="the id a POST answered")],
        request: Request,
    ) -> Expired:
        """Expire a silence now (it stays listed, as expired); once only: then 404."""
        alerts = running_service(request)
        silences, now = alerts.repositories.silences, alerts.clock.now()
        if not await silencing.expire_silence(silences, str(silence_id), now):
            raise HTTPException(404, f"no silence {silence_id} to expire")
        return Expired(id=str(silence_id), state="expired")
