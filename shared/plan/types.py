"""A plan's vocabulary: the kinds of indicator, path, unit, division and target, and the
constrained values a plan file holds (dates, codes, amounts, time zones)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
)

# `reported`: an official statistic (a share of GDP, a score, a national total) that no act
# counts; its value is the latest `cn.ipr.statistic.reported` of the (division, period).
IndicatorKind = Literal["stock", "ratio", "cumulative", "cumulative_sum", "annual", "reported"]
PathKind = Literal["linear", "compound"]
# share: a fraction (0.13 = 13 %); score: points on the survey's scale; cny_100m: 亿元.
Unit = Literal["count", "per_10k_population", "cny", "cny_100m", "share", "score"]
# Any level of GB/T 2260: the districts and counties of a city, the prefectures of a province,
# the provinces of the nation.
DistrictKind = Literal[
    "district",
    "county",
    "autonomous_county",
    "county_level_city",
    "prefecture",
    "autonomous_prefecture",
    "province",
    "municipality",
    "autonomous_region",
]
TargetKind = Literal["expected", "binding"]  # 预期性 / 约束性
PlanState = Literal["upcoming", "in_progress", "ended"]

_DIVISION_CODE = re.compile(r"\d{6}")


def _non_negative(value: float) -> float:
    if value < 0:
        shown = int(value) if value.is_integer() else value
        raise ValueError(f"must be a non-negative number, got {shown}")
    return value


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _as_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value  # pydantic checks that the day exists
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Amount = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_non_negative)]
IndicatorKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
PeriodKey = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")]
PlanDate = Annotated[date, BeforeValidator(_as_date)]
PlanId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
Tolerance = Annotated[float, Field(strict=True, ge=0, lt=1)]
