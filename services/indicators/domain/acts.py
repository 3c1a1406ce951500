"""Acts: what the fold keeps of one event, and how it is read from a Kafka record.

`parse_record` reads the binary-mode record (headers + JSON data). A fast path accepts only
records it can read exactly as the contract's pydantic models would, and builds the act
directly; everything else goes through `shared.events.from_kafka` (the contract itself), so
the result is the same either way and the contract's error is the reason of a rejection.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from shared import event_types as types
from shared.event_types import (
    GI_PRODUCT,
    GRANTED,
    LAPSED,
    MADRID,
    PCT_FILED,
    PLEDGE,
    RECLASSIFIED,
    RESTORED,
    REVENUE,
    SOFTWARE,
    STATISTIC,
    TM_LAPSED,
    TM_REGISTERED,
    TRANSFERRED,
    WORK,
)
from shared.events import DATA_MODELS, EARLIEST_ACT, UNSTORABLE, CloudEvent, from_kafka

# Types the fast path leaves to the contract: rare events, read by the pydantic models.
CONTRACT_ONLY = frozenset({STATISTIC})

PATENT_TYPES = frozenset({GRANTED, LAPSED, RESTORED, TRANSFERRED, RECLASSIFIED})
TRADEMARK_TYPES = frozenset({TM_REGISTERED, TM_LAPSED})


class Act(NamedTuple):
    """One event as the fold needs it; `amount` only for pledges and reports (revenue, a
    statistic's value); `indicator` and `period` only for statistics.

    A named tuple: a million of them are built per million events, and tuples build fast.
    """

    source: str
    id: str
    type: str
    subject: str | None
    district: str
    time: datetime
    high_value: bool | None = None
    from_district: str | None = None
    agricultural: bool = False
    geographical_indication: bool = False
    year: int | None = None
    amount: Decimal | None = None
    indicator: str | None = None
    period: str | None = None

    @property
    def state_key(self) -> str | None:
        """The acts whose deltas depend on one another share a key: a right, a revenue report."""
        if self.type in PATENT_TYPES:
            return f"patent:{self.subject}"
        if self.type in TRADEMARK_TYPES:
            return f"trademark:{self.subject}"
        if self.type == REVENUE:
            return f"revenue:{self.district}:{self.year}"
        if self.type == STATISTIC:
            return f"statistic:{self.district}:{self.indicator}:{self.period}"
        return None


class Unfoldable(ValueError):
    """A record the fold cannot use; `reason` is a short label for the metric and DLQ header."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def act_of(event: CloudEvent) -> Act:
    """The act of an event validated by the contract."""
    data: Any = event.data
    amount = getattr(data, "amount_cny", None)
    if event.type == STATISTIC:
        amount = data.value
    return Act(
        source=event.source,
        id=event.id,
        type=event.type,
        subject=event.subject,
        district=event.district,
        time=event.time,
        high_value=getattr(data, "high_value", None),
        from_district=getattr(data, "from_district", None),
        agricultural=getattr(data, "agricultural", False),
        geographical_indication=getattr(data, "geographical_indication", False),
        year=getattr(data, "year", None),
        amount=None if amount is None else Decimal(repr(float(amount))),
        indicator=getattr(data, "indicator", None),
        period=getattr(data, "period", None),
    )


def parse_record(value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> Act:
    """The act of one Kafka record; raises `Unfoldable` (reason `malformed` or `invalid`).

    Whatever the contract accepts, an act that PostgreSQL could not store or the fold could
    not place in a month (a NUL or a lone surrogate in a text, a time near year 10000) is
    refused here, so that one record never fails the transaction of its batch.
    """
    try:
        attrs = {name: raw.decode() for name, raw in headers}
        data = _json(value) if value is not None else None
    except (UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
        raise Unfoldable("malformed", str(exc)[:500]) from None
    act = _fast_act(attrs, data)
    if act is None:  # the fast path checked what `_check_storable` checks
        try:
            event = from_kafka(value or b"null", headers)
        except (ValidationError, ValueError, TypeError, AttributeError) as exc:
            raise Unfoldable("invalid", str(exc).replace("\n", " ")[:500]) from None
        try:
            act = act_of(event)
        except (ValueError, TypeError, AttributeError) as exc:
            raise Unfoldable("invalid", str(exc).replace("\n", " ")[:500]) from None
        _check_storable(act)
    return act


def _json(value: bytes) -> Any:
    """`json.loads`, by orjson (~7x faster on a record's data) where it can. What orjson refuses
    (NaN, Infinity, a lone surrogate, a BOM) the standard library reads. An integer past 64
    bits orjson reads as a float: the fast path refuses it (a year is an int, an amount is
    below 1e13, a flag a bool), so the contract reads that record (`test_records.py`)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


# The contract's unstorable characters (C0 and C1 controls, DEL, lone surrogates): PostgreSQL
# refuses NUL and lone surrogates in text, and no registry has a reason to send any of them.
_UNSAFE = UNSTORABLE
LATEST_ACT = datetime(9999, 1, 1, tzinfo=UTC)  # later, a month in another time zone overflows


def _check_storable(act: Act) -> None:
    for name, text in (("source", act.source), ("id", act.id), ("subject", act.subject)):
        if text is not None and _UNSAFE.search(text):
            raise Unfoldable("invalid", f"{name} contains a control character or a surrogate")
    if act.time >= LATEST_ACT:
        raise Unfoldable("invalid", f"time {act.time.isoformat()} is not before {LATEST_ACT}")


# --- the fast path: None = "not sure", the contract decides -------------------------------------

_KNOWN_HEADERS = frozenset(
    {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "content-type"}
)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_DISTRICT = re.compile(r"[0-9]{6}")  # as the contract; the plan says which (handlers)
_DATA_FIELDS: dict[str, frozenset[str]] = {
    GRANTED: frozenset({"district", "high_value"}),
    LAPSED: frozenset({"district", "reason"}),
    RESTORED: frozenset({"district"}),
    TRANSFERRED: frozenset({"district", "from_district"}),
    RECLASSIFIED: frozenset({"district", "high_value"}),
    PCT_FILED: frozenset({"district"}),
    TM_REGISTERED: frozenset({"district", "agricultural", "geographical_indication"}),
    TM_LAPSED: frozenset({"district"}),
    MADRID: frozenset({"district"}),
    GI_PRODUCT: frozenset({"district"}),
    SOFTWARE: frozenset({"district"}),
    WORK: frozenset({"district", "category"}),
    PLEDGE: frozenset({"district", "amount_cny"}),
    REVENUE: frozenset({"district", "year", "amount_cny"}),
}
_REQUIRED: dict[str, frozenset[str]] = {
    TRANSFERRED: frozenset({"district", "from_district"}),
    RECLASSIFIED: frozenset({"district", "high_value"}),
    PLEDGE: frozenset({"district", "amount_cny"}),
    REVENUE: frozenset({"district", "year", "amount_cny"}),
}
_DISTRICT_ONLY = frozenset({"district"})
# Any offset keeps a time of this year before LATEST_ACT: later ones take the contract's path,
# and `_check_storable` (the texts the fast path accepts have passed `_short_text` already).
_LAST_SAFE_YEAR = LATEST_ACT.year - 2
assert set(_DATA_FIELDS) | CONTRACT_ONLY == set(DATA_MODELS)  # noqa: S101 - every type is known


def _short_text(value: object, limit: int = 256) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= limit
        and not value[0].isspace()
        and not value[-1].isspace()
        and _UNSAFE.search(value) is None
    )


def _optional_text(data: dict[str, Any], name: str, limit: int) -> bool:
    value = data.get(name)
    return value is None or (
        type(value) is str and len(value) <= limit and _UNSAFE.search(value) is None
    )


def _fast_act(attrs: dict[str, str], data: object) -> Act | None:  # noqa: C901 - flat checks
    if not attrs.keys() <= _KNOWN_HEADERS or attrs.get("ce_specversion") != "1.0":
        return None
    event_type = attrs.get("ce_type")
    fields = _DATA_FIELDS.get(event_type or "")
    if event_type is None or fields is None or type(data) is not dict:
        return None
    source, event_id, subject = attrs.get("ce_source"), attrs.get("ce_id"), attrs.get("ce_subject")
    if not (_short_text(source) and _short_text(event_id)):
        return None
    if subject is None:
        if event_type != REVENUE:
            return None
    elif not _short_text(subject):
        return None
    raw_time = attrs.get("ce_time")
    if raw_time is None or not _TIME.fullmatch(raw_time):
        return None
    try:
        time = datetime.fromisoformat(raw_time)
    except ValueError:
        return None
    if time.tzinfo is None or time.date() < EARLIEST_ACT or time.year > _LAST_SAFE_YEAR:
        return None
    if not data.keys() <= fields or not _REQUIRED.get(event_type, _DISTRICT_ONLY) <= data.keys():
        return None
    district = data["district"]
    if type(district) is not str or not _DISTRICT.fullmatch(district):
        return None
    assert source is not None and event_id is not None  # noqa: S101 - checked above
    if fields == _DISTRICT_ONLY:
        return Act(source, event_id, event_type, subject, district, time)
    return _fast_data(source, event_id, event_type, subject, district, time, data)


def _fast_data(  # noqa: C901 - one case per event type
    source: str,
    event_id: str,
    event_type: str,
    subject: str | None,
    district: str,
    time: datetime,
    data: dict[str, Any],
) -> Act | None:
    match event_type:
        case types.GRANTED | types.RECLASSIFIED:
            high_value = data.get("high_value", False)
            if type(high_value) is not bool:
                return None
            return Act(source, event_id, event_type, subject, district, time, high_value)
        case types.LAPSED:
            if not _optional_text(data, "reason", 256):
                return None
        case types.WORK:
            if not _optional_text(data, "category", 64):
                return None
        case types.TRANSFERRED:
            origin = data["from_district"]
            if type(origin) is not str or not _DISTRICT.fullmatch(origin) or origin == district:
                return None
            return Act(source, event_id, event_type, subject, district, time, None, origin)
        case types.TM_REGISTERED:
            agricultural = data.get("agricultural", False)
            indication = data.get("geographical_indication", False)
            if type(agricultural) is not bool or type(indication) is not bool:
                return None
            return Act(source, event_id, event_type, subject, district, time, None, None,
                       agricultural, indication)  # fmt: skip
        case types.PLEDGE:
            amount = _number(data["amount_cny"])
            if amount is None or not 0 < amount < 1e13:
                return None
            return Act(source, event_id, event_type, subject, district, time,
                       amount=Decimal(repr(amount)))  # fmt: skip
        case types.REVENUE:
            amount, year = _number(data["amount_cny"]), data["year"]
            if amount is None or not 0 <= amount < 1e13:
                return None
            if type(year) is not int or not 2000 <= year <= 2100:
                return None
            return Act(source, event_id, event_type, subject, district, time,
                       year=year, amount=Decimal(repr(amount)))  # fmt: skip
        case _:
            return None
    return Act(source, event_id, event_type, subject, district, time)


def _number(value: object) -> float | None:
    if type(value) is float or type(value) is int:
        number = float(value)
        return number if math.isfinite(number) else None
    return None
