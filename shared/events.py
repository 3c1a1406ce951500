"""The event contract: CloudEvents 1.0 that registry systems push, one model per type.

Every service reads and writes events through this module and nothing else: the envelope
(`CloudEvent`), the typed `data` of each event type, and the two wire forms (JSON for HTTP,
binary mode with `ce_` headers for Kafka).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

SPEC_VERSION = "1.0"
TYPE_PREFIX = "cn.ipr."
EARLIEST_ACT = date(1985, 1, 1)  # the Chinese Patent Law took effect on 1985-04-01

DistrictCode = Annotated[str, StringConstraints(pattern=r"^50\d{4}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]


class EventData(BaseModel):
    """What every event's `data` carries: the holder's county-level division."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    needs_subject: ClassVar[bool] = True

    district: DistrictCode

    @field_validator("district")
    @classmethod
    def _district_in_plan(cls, code: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("district_codes")
        if known is not None and code not in known:
            raise ValueError(f"unknown district code {code!r}: not a division of the plan")
        return code


class InventionGranted(EventData):
    high_value: bool = False


class InventionLapsed(EventData):
    reason: Annotated[str, StringConstraints(max_length=256)] | None = None


class InventionRestored(EventData):
    pass


class InventionTransferred(EventData):
    from_district: DistrictCode

    @field_validator("from_district")
    @classmethod
    def _from_district_in_plan(cls, code: str, info: ValidationInfo) -> str:
        return cls._district_in_plan(code, info)

    @model_validator(mode="after")
    def _moves(self) -> InventionTransferred:
        if self.from_district == self.district:
            raise ValueError("from_district equals district: a transfer must move the right")
        return self


class InventionReclassified(EventData):
    high_value: bool


class PctApplicationFiled(EventData):
    pass


class TrademarkRegistered(EventData):
    agricultural: bool = False
    geographical_indication: bool = False


class TrademarkLapsed(EventData):
    pass


class MadridRegistered(EventData):
    pass


class GiProductRegistered(EventData):
    pass


class SoftwareCopyrightRegistered(EventData):
    pass


class WorkCopyrightRegistered(EventData):
    category: Annotated[str, StringConstraints(max_length=64)] | None = None


class PledgeRegistered(EventData):
    amount_cny: Annotated[float, Field(gt=0, lt=1e13)]


class RevenueReported(EventData):
    needs_subject: ClassVar[bool] = False

    year: Annotated[int, Field(ge=2000, le=2100)]
    amount_cny: Annotated[float, Field(ge=0, lt=1e13)]


DATA_MODELS: Mapping[str, type[EventData]] = {
    f"{TYPE_PREFIX}patent.invention.granted": InventionGranted,
    f"{TYPE_PREFIX}patent.invention.lapsed": InventionLapsed,
    f"{TYPE_PREFIX}patent.invention.restored": InventionRestored,
    f"{TYPE_PREFIX}patent.invention.transferred": InventionTransferred,
    f"{TYPE_PREFIX}patent.invention.reclassified": InventionReclassified,
    f"{TYPE_PREFIX}pct.application.filed": PctApplicationFiled,
    f"{TYPE_PREFIX}trademark.registered": TrademarkRegistered,
    f"{TYPE_PREFIX}trademark.lapsed": TrademarkLapsed,
    f"{TYPE_PREFIX}trademark.madrid.registered": MadridRegistered,
    f"{TYPE_PREFIX}gi.product.registered": GiProductRegistered,
    f"{TYPE_PREFIX}copyright.software.registered": SoftwareCopyrightRegistered,
    f"{TYPE_PREFIX}copyright.work.registered": WorkCopyrightRegistered,
    f"{TYPE_PREFIX}finance.pledge.registered": PledgeRegistered,
    f"{TYPE_PREFIX}service.revenue.reported": RevenueReported,
}
EVENT_TYPES: tuple[str, ...] = tuple(DATA_MODELS)


class CloudEvent(BaseModel):
    """One registration event, CloudEvents 1.0 with a typed `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"]
    id: ShortText
    source: ShortText
    type: str
    subject: ShortText | None = None
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: EventData

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in DATA_MODELS:
            raise ValueError(f"unknown event type {value!r}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, raw: Any, info: ValidationInfo) -> Any:
        if isinstance(raw, Mapping) and isinstance(raw.get("data"), Mapping):
            model = DATA_MODELS.get(str(raw.get("type")))
            if model is not None:
                raw = {**raw, "data": model.model_validate(raw["data"], context=info.context)}
        return raw

    @model_validator(mode="after")
    def _subject_and_time(self, info: ValidationInfo) -> CloudEvent:
        if self.data.needs_subject and self.subject is None:
            raise ValueError(f"subject is required for {self.type}")
        if self.time.date() < EARLIEST_ACT:
            raise ValueError(f"time {self.time.isoformat()} is before {EARLIEST_ACT}")
        latest = (info.context or {}).get("latest_time")
        if isinstance(latest, datetime) and self.time > latest:
            raise ValueError(f"time {self.time.isoformat()} is in the future")
        return self

    @property
    def district(self) -> str:
        return self.data.district

    def to_json(self) -> dict[str, Any]:
        """The structured-mode JSON object of this event."""
        return self.model_dump(mode="json", exclude_none=True)


HeaderList = list[tuple[str, bytes]]
_KAFKA_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time")


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, HeaderList]:
    """Binary content mode for Kafka: key = district code, value = data, `ce_` headers."""
    attrs = event.model_dump(mode="json", include=set(_KAFKA_ATTRIBUTES), exclude_none=True)
    headers: HeaderList = [(f"ce_{name}", str(attrs[name]).encode()) for name in attrs]
    headers.append(("content-type", event.datacontenttype.encode()))
    value = event.data.model_dump_json(exclude_none=True).encode()
    return event.district.encode(), value, headers


def from_kafka(value: bytes, headers: Iterable[tuple[str, bytes]]) -> CloudEvent:
    """Parse a Kafka record written by `to_kafka`; raises pydantic.ValidationError or ValueError."""
    raw: dict[str, Any] = {}
    for name, header_value in headers:
        if name.startswith("ce_"):
            raw[name[3:]] = header_value.decode()
    raw["data"] = json.loads(value)
    return CloudEvent.model_validate(raw)
