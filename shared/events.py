"""The event contract: CloudEvents 1.0 that registry systems push, one model per type.

Every service reads and writes events through this module and nothing else: the envelope
(`CloudEvent`), the typed `data` of each event type, one frozen envelope class per type
(`TYPED_EVENTS`, e.g. `InventionGrantedEvent`), an example of each type (`EXAMPLES`), and the
wire forms (JSON for HTTP, binary mode with `ce_` headers for Kafka and HTTP).

The contract is version 1 (`CONTRACT_VERSION`, topic `ipr.events.v1`): a change that is not
backward compatible gets new type names and a new topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializeAsAny,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, to_jsonable_python

CONTRACT_VERSION = 1
SPEC_VERSION = "1.0"
TYPE_PREFIX = "cn.ipr."
EARLIEST_ACT = date(1985, 1, 1)  # the Chinese Patent Law took effect on 1985-04-01

# A GB/T 2260 code; which codes are accepted is the plan's business (validation context).
DistrictCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]

# Every string of an event must be storable as PostgreSQL `text` and readable in a log: no C0
# control character (NUL included), no DEL, no C1 control character, no lone UTF-16 surrogate
# (JSON can write one, UTF-8 cannot encode it). The JSON Schema states the control characters as
# a pattern; surrogates are not characters of a JSON Schema string, so only the check names them.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
IDENTIFIER_PATTERN = rf"^[^\s{_CONTROL}]([^{_CONTROL}]*[^\s{_CONTROL}])?$"
_UNSTORABLE = re.compile(rf"[{_CONTROL}\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` unless it is a string PostgreSQL cannot store as `text` (a ValueError naming the
    character then); run before the string checks, so a lone surrogate gets this message too."""
    found = _UNSTORABLE.search(value) if isinstance(value, str) else None
    if found is None:
        return value
    char = found.group()
    kind = "a lone UTF-16 surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    raise ValueError(f"{kind} (U+{ord(char):04X}) at position {found.start()} is not allowed")


def _trimmed(value: str) -> str:
    if value != value.strip():
        raise ValueError("leading or trailing whitespace is not allowed")
    return value


class _Pattern:
    """Adds a pattern to a string's JSON Schema (the check itself is a validator's)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


# Free text, storable (`reason`, `category`).
_FREE_TEXT = (BeforeValidator(storable), _Pattern(TEXT_PATTERN))
Reason = Annotated[str, StringConstraints(max_length=256), *_FREE_TEXT]
Category = Annotated[str, StringConstraints(max_length=64), *_FREE_TEXT]
Document = Annotated[str, StringConstraints(max_length=256), *_FREE_TEXT]


# An identifier (`id`, `source`, `subject`): 1-256 characters, storable, no surrounding spaces.
ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256),
    BeforeValidator(storable),
    AfterValidator(_trimmed),
    _Pattern(IDENTIFIER_PATTERN),
]


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
            raise ValueError(f"unknown district code {code!r}: not a division of any plan")
        return code


class InventionGranted(EventData):
    high_value: StrictBool = False


class InventionLapsed(EventData):
    reason: Reason | None = None


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
    high_value: StrictBool


class PctApplicationFiled(EventData):
    pass


class TrademarkRegistered(EventData):
    agricultural: StrictBool = False
    geographical_indication: StrictBool = False


class TrademarkLapsed(EventData):
    pass


class MadridRegistered(EventData):
    pass


class GiProductRegistered(EventData):
    pass


class SoftwareCopyrightRegistered(EventData):
    pass


class WorkCopyrightRegistered(EventData):
    category: Category | None = None


class PledgeRegistered(EventData):
    amount_cny: Annotated[float, Strict(), Field(gt=0, lt=1e13)]


class RevenueReported(EventData):
    needs_subject: ClassVar[bool] = False

    year: Annotated[int, Strict(), Field(ge=2000, le=2100)]
    amount_cny: Annotated[float, Strict(), Field(ge=0, lt=1e13)]


class StatisticReported(EventData):
    """An official figure of a `reported` indicator for a division and a period.

    `indicator` is the key of a `reported` indicator of a loaded plan (ingest checks it);
    `period` is a year `YYYY` or a month `YYYY-MM`.
    """

    needs_subject: ClassVar[bool] = False

    indicator: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    period: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")]
    value: Annotated[float, Field(allow_inf_nan=False)]
    document: Document | None = None

    @field_validator("district")
    @classmethod
    def _district_in_plan(cls, code: str, info: ValidationInfo) -> str:
        """A statistic is reported for a plan's division or area, at any level."""
        known = (info.context or {}).get("report_codes")
        if known is not None and code not in known:
            raise ValueError(f"unknown division code {code!r}: not a division or area of any plan")
        return code

    @field_validator("indicator")
    @classmethod
    def _reported_by_a_plan(cls, key: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("reported_indicators")
        if known is not None and key not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ValueError(
                f"unknown indicator {key!r}: no plan reports it (reported indicators: {listed})"
            )
        return key


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
    f"{TYPE_PREFIX}statistic.reported": StatisticReported,
}
EVENT_TYPES: tuple[str, ...] = tuple(DATA_MODELS)


_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _rfc3339(value: Any) -> Any:
    """Only what the schema says (`format: date-time`): no Unix timestamps, no other forms."""
    if isinstance(value, str) and _RFC3339.match(value) is None or isinstance(value, int | float):
        raise ValueError(
            "time must be an RFC 3339 date-time with its offset, e.g. 2023-05-12T00:00:00+08:00"
        )
    return value


class CloudEvent(BaseModel):
    """One registration event, CloudEvents 1.0 with a typed `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"]
    id: ShortText
    source: ShortText
    type: str
    subject: ShortText | None = None
    time: Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
    datacontenttype: Literal["application/json"] = "application/json"
    data: SerializeAsAny[EventData]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in DATA_MODELS:
            raise ValueError(f"unknown event type {value!r}")
        return value

    @field_validator("time")
    @classmethod
    def _sane_time(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.date() < EARLIEST_ACT:
            raise ValueError(f"time {value.isoformat()} is before {EARLIEST_ACT}")
        latest = (info.context or {}).get("latest_time")
        if isinstance(latest, datetime) and value > latest:
            raise ValueError(f"time {value.isoformat()} is in the future")
        return value

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, raw: Any, info: ValidationInfo) -> Any:
        if cls is not CloudEvent:  # a typed event class validates its own `data`
            return raw
        if isinstance(raw, Mapping) and isinstance(raw.get("data"), Mapping):
            model = DATA_MODELS.get(str(raw.get("type")))
            if model is not None:
                raw = {**raw, "data": model.model_validate(raw["data"], context=info.context)}
        return raw

    @model_validator(mode="after")
    def _subject_given(self) -> CloudEvent:
        if self.data.needs_subject and self.subject is None:
            raise ValueError(f"subject is required for {self.type}")
        return self

    @property
    def district(self) -> str:
        return self.data.district

    def to_json(self) -> dict[str, Any]:
        """The structured-mode JSON object of this event."""
        return self.model_dump(mode="json", exclude_none=True)


def _typed_event_class(event_type: str, data_model: type[EventData]) -> type[CloudEvent]:
    """The envelope of one event type: `type` fixed, `data` typed, `subject` required if due."""
    subject: Any = (ShortText, ...) if data_model.needs_subject else (ShortText | None, None)
    return create_model(
        f"{data_model.__name__}Event",
        __base__=CloudEvent,
        __module__=__name__,
        type=(Literal[event_type], ...),  # type: ignore[arg-type]
        subject=subject,
        data=(data_model, ...),
    )


TYPED_EVENTS: Mapping[str, type[CloudEvent]] = {
    event_type: _typed_event_class(event_type, model) for event_type, model in DATA_MODELS.items()
}


def parse_event(raw: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> CloudEvent:
    """Validate one structured-mode event with its type's own class (faster, precise errors).

    Raises `UnknownEventType` when `type` names no type of the contract, else pydantic's
    `ValidationError` with every problem located (`data.district`, `subject`, `time`, ...).
    """
    event_type = raw.get("type")
    event_class = TYPED_EVENTS.get(event_type) if isinstance(event_type, str) else None
    if event_class is None:
        raise UnknownEventType(event_type)
    return event_class.model_validate(raw, context=context)


class UnknownEventType(ValueError):
    def __init__(self, value: object) -> None:
        if isinstance(value, str):
            shown = repr(value) if len(value) <= 80 else repr(value[:80]) + "…"
            message = f"unknown event type {shown}: not one of the {len(EVENT_TYPES)} types"
        elif value is None:
            message = "type is missing"
        else:
            message = f"type must be a string, got {type(value).__name__}"
        super().__init__(message)
        self.value = value


_EXAMPLE_DATA: Mapping[str, tuple[str | None, dict[str, Any]]] = {
    "patent.invention.granted": ("ZL202310123456.7", {"district": "500112", "high_value": True}),
    "patent.invention.lapsed": ("ZL201810654321.X", {"district": "500106", "reason": "fees"}),
    "patent.invention.restored": ("ZL201810654321.X", {"district": "500106"}),
    "patent.invention.transferred": (
        "ZL202010765432.1", {"district": "500112", "from_district": "500103"}
    ),
    "patent.invention.reclassified": ("ZL202310123456.7", {"district": "500112",
                                                           "high_value": False}),
    "pct.application.filed": ("PCT/CN2023/098765", {"district": "500105"}),
    "trademark.registered": ("68123456", {"district": "500111", "agricultural": True,
                                          "geographical_indication": False}),
    "trademark.lapsed": ("12345678", {"district": "500101"}),
    "trademark.madrid.registered": ("1712345", {"district": "500108"}),
    "gi.product.registered": ("GI-2023-017", {"district": "500229"}),
    "copyright.software.registered": ("2023SR0123456", {"district": "500107"}),
    "copyright.work.registered": ("渝作登字-2023-A-00012345", {"district": "500103",
                                                             "category": "fine_art"}),
    "finance.pledge.registered": ("Y2023500000123", {"district": "500112",
                                                     "amount_cny": 25000000.0}),
    "service.revenue.reported": (None, {"district": "500103", "year": 2023,
                                        "amount_cny": 1250000.0}),
    "statistic.reported": (None, {"district": "500112",
                                  "indicator": "patent_intensive_industries_gdp_share",
                                  "period": "2022", "value": 12.5,
                                  "document": "重庆市知识产权局 2022 年统计公报"}),
}  # fmt: skip


def _example(suffix: str, subject: str | None, data: dict[str, Any]) -> dict[str, Any]:
    registry = suffix.split(".")[0]
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": f"{registry}-2023-0512-000123",
        "source": f"/registries/{registry}",
        "type": f"{TYPE_PREFIX}{suffix}",
        "time": "2023-05-12T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject is not None:
        event["subject"] = subject
    return event


EXAMPLES: Mapping[str, Mapping[str, Any]] = {
    f"{TYPE_PREFIX}{suffix}": _example(suffix, subject, data)
    for suffix, (subject, data) in _EXAMPLE_DATA.items()
}


HeaderList = list[tuple[str, bytes]]
_SPECVERSION_HEADER = ("ce_specversion", SPEC_VERSION.encode())
_CONTENT_TYPE_HEADER = ("content-type", b"application/json")


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, HeaderList]:
    """Binary content mode for Kafka: key = district code, value = data, `ce_` headers."""
    # specversion and datacontenttype can each hold one value only (Literal): their headers
    # are made once. Ingest calls this for every event it publishes.
    headers: HeaderList = [
        _SPECVERSION_HEADER,
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
    ]
    if event.subject is not None:
        headers.append(("ce_subject", event.subject.encode()))
    headers.append(("ce_time", to_jsonable_python(event.time).encode()))
    headers.append(_CONTENT_TYPE_HEADER)
    data = event.data
    return (
        data.district.encode(),
        data.__pydantic_serializer__.to_json(data, exclude_none=True),
        headers,
    )


def from_kafka(value: bytes, headers: Iterable[tuple[str, bytes]]) -> CloudEvent:
    """Parse a Kafka record written by `to_kafka`; raises pydantic.ValidationError or ValueError."""
    raw: dict[str, Any] = {}
    for name, header_value in headers:
        if name.startswith("ce_"):
            raw[name[3:]] = header_value.decode()
    raw["data"] = json.loads(value)
    return CloudEvent.model_validate(raw)
