"""The fold: what one unique act changes, as signed deltas per (district, indicator, month).

Pure: no framework, no I/O. The store records acts, drops duplicates and sums these deltas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from shared.events import CloudEvent, InventionGranted


@dataclass(frozen=True)
class Delta:
    district: str
    indicator: str
    month: date
    amount: float


def month_of(day: date) -> date:
    return day.replace(day=1)


def deltas_for(event: CloudEvent, baseline_date: date, tz: tzinfo) -> list[Delta]:
    """The deltas of one unique act; acts on or before the baseline date are in the baseline.

    The act's month is its calendar month in the plan's time zone.
    """
    act_day = event.time.astimezone(tz).date()
    if act_day <= baseline_date:
        return []
    month = month_of(act_day)
    match event.data:
        case InventionGranted(district=district, high_value=high_value):
            deltas = [Delta(district, "valid_invention_patents", month, 1)]
            if high_value:
                deltas.append(Delta(district, "high_value_invention_patents", month, 1))
            return deltas
        case _:
            return []
