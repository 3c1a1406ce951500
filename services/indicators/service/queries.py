"""What the read APIs and the board answer, from the snapshot's ledgers: a plan's summary, the
items of `GET /v1/indicators` (value, target, path, the one status definition, the outcome of
an ended plan). `NotInPlan` is a division or indicator the plan does not know (HTTP: 404)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.indicators.domain.values import Ledger
from shared.outcomes import outcome
from shared.plan import Plan
from shared.status import assess
from shared.trajectory import required_value


class NotInPlan(LookupError):
    """A division or an indicator that the plan asked for does not declare."""


def today(ledger: Ledger) -> date:
    return datetime.now(ledger.plan.zone).date()


def codes(ledger: Ledger, district: str | None) -> list[str]:
    if district is None:
        return ledger.codes()
    if district != ledger.area and not ledger.plan.is_district(district):
        raise NotInPlan(f"unknown district {district!r}: not a division of plan {ledger.plan.id!r}")
    return [district]


def indicators(ledger: Ledger, indicator: str | None) -> list[str]:
    keys = list(ledger.plan.indicator_keys)
    if indicator is None:
        return keys
    if indicator not in keys:
        raise NotInPlan(
            f"unknown indicator {indicator!r}: plan {ledger.plan.id!r} does not declare it"
        )
    return [indicator]


def names(ledger: Ledger, code: str) -> tuple[str, str]:
    place = ledger.plan.city if code == ledger.area else ledger.plan.district(code)
    return place.name_zh, place.name_en


def plan_summary(plan: Plan, today: date) -> dict[str, Any]:
    """What `GET /v1/plans` says of one plan."""
    return {
        "id": plan.id, "name_zh": plan.name_zh, "document_no": plan.document_no,
        "baseline_date": plan.baseline_date.isoformat(),
        "target_date": plan.target_date.isoformat(), "timezone": plan.timezone,
        "state": plan.state(today),
        "area": {"code": plan.city.code, "name_zh": plan.city.name_zh,
                 "name_en": plan.city.name_en},
        "divisions": len(plan.districts),
        "derive_baselines_from": plan.derive_baselines_from,
        "indicators": [
            {"key": i.key, "name_zh": i.name_zh, "name_en": i.name_en, "kind": i.kind,
             "unit": i.unit, "has_target": i.target is not None}
            for i in plan.indicators
        ],
    }  # fmt: skip


def indicator_items(
    ledger: Ledger,
    district: str | None,
    indicator: str | None,
    as_of: date | None,
    window: slice = slice(None),
) -> tuple[int, list[dict[str, Any]]]:
    """The number of (district, indicator) pairs asked for, and the items of `window`."""
    on = as_of or today(ledger)
    ended = ledger.plan.state(on) == "ended"
    pairs = [
        (code, key) for code in codes(ledger, district) for key in indicators(ledger, indicator)
    ]
    items = []
    for code, key in pairs[window]:
        name_zh, name_en = names(ledger, code)
        spec = ledger.plan.indicator(key)
        progress = ledger.progress(code, key, as_of)
        judged = judge(ledger, code, key, on)
        items.append({
            "plan": ledger.plan.id, "district": code,
            "district_name_zh": name_zh, "district_name_en": name_en,
            "indicator": key, "name_zh": spec.name_zh, "name_en": spec.name_en,
            "kind": spec.kind, "unit": spec.unit, "value": progress.value,
            "baseline": progress.baseline, "baseline_kind": progress.baseline_kind,
            "target": progress.target,
            "required": None if ended else required_value(ledger.plan, code, key, on),
            "progress": progress.progress, **judged,
        })  # fmt: skip
    return len(pairs), items


def judge(ledger: Ledger, code: str, key: str, on: date) -> dict[str, Any]:
    """The one status definition (`shared.status`) and, for an ended plan, the outcome."""
    series = ledger.series(code, key, end=on)
    found = assess(ledger.plan, code, key, series, on)
    fit = found.forecast
    answer: dict[str, Any] = {
        "status": found.status,
        "provisional": found.provisional,
        "forecast": None if fit is None else {"value": fit.value, "low": fit.low, "high": fit.high},
    }
    provisional_on = found.provisional_on
    annual = ledger.plan.indicator(key).kind == "annual"
    if provisional_on is not None and annual and code == ledger.area:
        month = date(provisional_on.year, 12, 1)
        reported, divisions = ledger.reported_so_far(key, month)
        answer["reported_so_far"] = {
            "period": str(month.year), "divisions": reported, "of": divisions,
            "value": found.provisional_value,
        }  # fmt: skip
    if ledger.plan.state(on) == "ended":
        result = outcome(ledger.plan, code, key, ledger.series(code, key))
        answer["outcome"] = {
            "outcome": result.outcome, "value": result.value, "target": result.target,
            "shortfall": result.shortfall, "period": result.period,
        }  # fmt: skip
    return answer
