"""The typed `data` of each event type of the contract (`DATA_MODELS`, by type name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared import event_types as types
from shared.events.fields import Category, DistrictCode, Document, Reason


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
    types.GRANTED: InventionGranted,
    types.LAPSED: InventionLapsed,
    types.RESTORED: InventionRestored,
    types.TRANSFERRED: InventionTransferred,
    types.RECLASSIFIED: InventionReclassified,
    types.PCT_FILED: PctApplicationFiled,
    types.TM_REGISTERED: TrademarkRegistered,
    types.TM_LAPSED: TrademarkLapsed,
    types.MADRID: MadridRegistered,
    types.GI_PRODUCT: GiProductRegistered,
    types.SOFTWARE: SoftwareCopyrightRegistered,
    types.WORK: WorkCopyrightRegistered,
    types.PLEDGE: PledgeRegistered,
    types.REVENUE: RevenueReported,
    types.STATISTIC: StatisticReported,
}
EVENT_TYPES: tuple[str, ...] = tuple(DATA_MODELS)
