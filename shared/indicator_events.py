"""The indicator-changed event that indicators publishes on `ipr.indicators.v1`.

CloudEvents 1.0 in Kafka binary mode: `ce_` headers (`ce_id` =
`{plan}/{district}/{indicator}/{seq}`, `ce_source` = `/iprwatch/indicators`,
`ce_type` = `cn.ipr.indicator.changed`, `ce_time`),
`content-type: application/json`, key = `{plan}/{district}`, value = the JSON of
`IndicatorChanged`. Each message carries the whole monthly series of one (plan, district,
indicator): the plan's values (its baselines plus the deltas after its baseline month),
so a consumer rebuilds its state idempotently from the latest message alone: keep, per key, the
message with the highest `seq`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.cloudevents import HeaderList, attributes, binary_headers

CHANGED_TYPE = "cn.ipr.indicator.changed"
CHANGED_SOURCE = "/iprwatch/indicators"

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class SeriesPoint(BaseModel):
    """The end-of-month value of one month."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    month: Month
    value: float


class IndicatorChanged(BaseModel):
    """A (plan, division, indicator) changed: its current value and its whole monthly series.

    `plan` is the id of the plan whose values these are (one event history feeds every plan;
    each plan has its own baselines, so each has its own series). `value` is the latest
    (cumulative) value; `month` the latest month the change touched and
    `month_value` the end-of-month value of that month; `seq` grows with every change of the
    key; `series` runs from the first month after the plan's baseline date to the latest month
    with data (a late event changes earlier months, so the series is always sent whole).
    `district` is any division of the plan, or its area (`500000` for Chongqing's plans).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    district: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    indicator: str
    month: Month
    value: float | None
    month_value: float | None
    seq: Annotated[int, Field(ge=1)]
    series: tuple[SeriesPoint, ...] = ()

    @property
    def event_id(self) -> str:
        return f"{self.plan}/{self.district}/{self.indicator}/{self.seq}"


def to_kafka(
    event: IndicatorChanged, time: datetime | None = None
) -> tuple[bytes, bytes, HeaderList]:
    """Key, value and headers of the Kafka record (binary content mode)."""
    when = (time or datetime.now(UTC)).isoformat()
    headers = binary_headers(event.event_id, CHANGED_SOURCE, CHANGED_TYPE, when)
    key = f"{event.plan}/{event.district}".encode()
    return key, event.model_dump_json().encode(), headers


def from_kafka(value: bytes, headers: Iterable[tuple[str, bytes]]) -> IndicatorChanged:
    """Parse a record written by `to_kafka`; raises ValueError (or pydantic's ValidationError)."""
    found = attributes(headers)
    if found.get("type") != CHANGED_TYPE:
        raise ValueError(f"not an indicator-changed event: ce_type {found.get('type')!r}")
    event = IndicatorChanged.model_validate(json.loads(value))
    if found.get("id") not in (None, event.event_id):
        raise ValueError(f"ce_id {found.get('id')!r} does not match {event.event_id!r}")
    return event
