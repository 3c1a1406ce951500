"""The plan as data: the one module that reads and validates a plan file.

A plan file (YAML, e.g. `deploy/plans/chongqing-14th-fyp.yaml`) declares the plan period, the
city, its county-level divisions with their populations, and the indicators with their
baselines, targets and required paths. `load_plan` turns it into frozen pydantic models, or
raises `PlanError` naming the file, the key path and the problem. Pure: pyyaml and pydantic only.

File layout: `plan:` (id, name_zh, document_no, baseline_date, target_date, timezone), `city:`,
`districts:` (a list, in display order) and `indicators:` (a mapping key -> fields, in display
order, where `actuals` and `in_year` are `{values: {"YYYY" | "YYYY-MM": number}, source, note}`).
"""

from __future__ import annotations

from shared.plan.loading import PLAN_FILE_ENV, PlanError, default_plan_path, load_plan
from shared.plan.model import (
    City,
    District,
    Figure,
    Indicator,
    NationalReference,
    Plan,
    UnmodelledTarget,
)
from shared.plan.types import DistrictKind, IndicatorKind, PathKind, TargetKind, Unit

__all__ = [
    "PLAN_FILE_ENV",
    "City",
    "District",
    "DistrictKind",
    "Figure",
    "Indicator",
    "IndicatorKind",
    "NationalReference",
    "PathKind",
    "Plan",
    "PlanError",
    "TargetKind",
    "Unit",
    "UnmodelledTarget",
    "default_plan_path",
    "load_plan",
]
