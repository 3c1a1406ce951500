"""The end of a plan: who hears its final evaluation (终期评估), what it says, the mail itself.

A final evaluation lists, per (division, indicator) with a target, the outcome (`achieved`,
`missed` with the shortfall, `no_data`) and whether an alert was firing when the plan ended
(it is closed by the evaluation). City officials get every division; a district's officials
get their district's. A later change of an outcome is one short notice to those who hear of
the division. The mail (Chinese first, a one-line English summary last) is rendered from
Jinja2 templates, the HTML one with autoescaping. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.alerts.domain.notices import Item, message_id, thread_id
from services.alerts.domain.recipients import Recipients
from shared.numbers import with_unit
from shared.outcomes import Outcome
from shared.plan import Plan

OUTCOME_ZH = {"achieved": "已达成", "missed": "未达成", "no_data": "无数据", "no_target": "无目标"}


# templates/evaluation.txt.j2 (plain text) and templates/evaluation.html.j2 (autoescaped).
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def evaluation_recipients(recipients: Recipients, plan: Plan) -> dict[str, frozenset[str] | None]:
    """Each address told of the plan's final evaluation: None = every division (city
    officials), else the plan's divisions it hears of."""
    found: dict[str, frozenset[str] | None] = {}
    for person in recipients.city:
        found[person.email.lower()] = None
    for code, people in recipients.districts.items():
        if not plan.is_district(code):
            continue
        for person in people:
            address = person.email.lower()
            if address in found and found[address] is None:
                continue
            found[address] = (found.get(address) or frozenset()) | {code}
    return found


def _name(plan: Plan, code: str) -> str:
    return plan.city.name_zh if code == plan.city.code else plan.district(code).name_zh


def outcome_fields(plan: Plan, o: Outcome) -> dict[str, Any]:
    spec = plan.indicator(o.indicator)
    return {
        "division": o.division,
        "division_name": _name(plan, o.division),
        "indicator": o.indicator,
        "indicator_name": spec.name_zh,
        "unit": spec.unit,
        "outcome": o.outcome,
        "value": o.value,
        "target": o.target,
        "shortfall": o.shortfall,
        "period": o.period,
    }


def _plan_fields(plan: Plan, now: datetime) -> dict[str, Any]:
    return {
        "plan": plan.id,
        "plan_name": plan.name_zh,
        "document_no": plan.document_no,
        "baseline_date": plan.baseline_date.isoformat(),
        "target_date": plan.target_date.isoformat(),
        "timezone": plan.timezone,
        "at": now.isoformat(),
    }


def final_snapshot(
    plan: Plan, rows: Sequence[Outcome], closed: Collection[tuple[str, str]], now: datetime
) -> dict[str, Any]:
    """What one recipient's final evaluation says (frozen when it is decided)."""
    return {
        **_plan_fields(plan, now),
        "outcomes": [{**outcome_fields(plan, o), "alert_closed": o.key in closed} for o in rows],
    }


def outcome_row(plan: Plan, o: Outcome, now: datetime, was: str) -> dict[str, Any]:
    """What a notice of one changed outcome says."""
    return {**_plan_fields(plan, now), **outcome_fields(plan, o), "was": was}


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    unit = str(row["unit"])

    def amount(value: Any) -> str:
        return "—" if value is None else with_unit(float(value), unit)

    period = row.get("period")
    return {
        **row,
        "outcome_zh": OUTCOME_ZH.get(str(row["outcome"]), str(row["outcome"])),
        "was_zh": OUTCOME_ZH.get(str(row.get("was")), str(row.get("was"))),
        "value": amount(row["value"]),
        "target": amount(row["target"]),
        "shortfall": amount(row["shortfall"]) if row.get("shortfall") else None,
        "period_zh": (f"{period} 年" if len(period) == 4 else f"{period} 月末") if period else "",
    }


def _local_time(at: str, zone: str) -> str:
    moment = datetime.fromisoformat(at).astimezone(ZoneInfo(zone))
    return f"{moment:%Y-%m-%d %H:%M}({zone})"


def _context(items: Sequence[Item]) -> dict[str, Any]:
    final = next((i for i in items if i.kind == "final"), None)
    changes = [i.snapshot for i in items if i.kind == "outcome"]
    head = (final or items[0]).snapshot
    rows = [_shown(r) for r in final.snapshot["outcomes"]] if final else []
    counts = Counter(str(r["outcome"]) for r in rows)
    return {
        "final": final is not None,
        "plan_id": head["plan"],
        "plan_name": head["plan_name"],
        "document_no": head["document_no"],
        "baseline_date": head["baseline_date"],
        "target_date": head["target_date"],
        "at": _local_time(str(head["at"]), str(head["timezone"])),
        "rows": rows,
        "counts": {k: counts.get(k, 0) for k in ("achieved", "missed", "no_data")},
        "changes": [_shown(c) for c in changes],
    }


def evaluation_subject(items: Sequence[Item]) -> str:
    c = _context(items)
    if c["final"]:
        n = c["counts"]
        return (
            f"【知识产权规划监测·终期评估】{c['plan_name']}:已达成 {n['achieved']} 项,"
            f"未达成 {n['missed']} 项,无数据 {n['no_data']} 项"
        )
    if len(c["changes"]) == 1:
        x = c["changes"][0]
        return (
            f"【知识产权规划监测·终期评估更新】{c['plan_name']}:{x['division_name']} "
            f"{x['indicator_name']} 由「{x['was_zh']}」变为「{x['outcome_zh']}」"
        )
    return f"【知识产权规划监测·终期评估更新】{c['plan_name']}:{len(c['changes'])} 项结果变化"


def compose_evaluation(
    recipient: str, items: Sequence[Item], sender: str, created_at: datetime
) -> EmailMessage:
    """The mail to `recipient` for a plan's evaluation items (a final evaluation and/or
    outcome changes of one plan); its Message-ID depends on nothing else."""
    context = _context(items)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = evaluation_subject(items)
    msg["Date"] = format_datetime(
        created_at.astimezone(ZoneInfo(str(items[0].snapshot["timezone"])))
    )
    msg["Message-ID"] = message_id(recipient, items)
    thread = thread_id(items[0].plan, "final", "evaluation")
    msg["In-Reply-To"] = thread
    msg["References"] = thread
    msg["X-IPRWatch-Plan"] = items[0].plan
    msg["X-IPRWatch-Alerts"] = ", ".join(i.key for i in items)
    msg.set_content(_ENV.get_template("evaluation.txt.j2").render(context), cte="base64")
    msg.add_alternative(
        _ENV.get_template("evaluation.html.j2").render(context), subtype="html", cte="base64"
    )
    return msg
