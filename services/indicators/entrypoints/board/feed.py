"""What a division's page shows of its latest acts and of its current alerts, in Chinese:
dates in the plan's time zone, each event type by its label (`shared.event_types.LABEL_ZH`),
a right by its id, a report by what it reports; an alert by indicator, state, status, since
when, and its value against the path's required value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.indicators.entrypoints.board.view import STATUS_ZH
from services.indicators.service.ports import AlertsAnswer, RecentAct
from shared.divisions import official
from shared.event_types import LABEL_ZH, REVENUE, STATISTIC
from shared.numbers import with_unit
from shared.plan import Plan

ALERT_STATE_ZH = {"pending": "待确认", "firing": "告警中"}
STATUS_NAMES: dict[str, str] = {str(k): v for k, v in STATUS_ZH.items()}
ALERTS_NOTE_ZH = {"unconfigured": "告警服务未配置", "unavailable": "暂时无法获取告警"}


@dataclass(frozen=True)
class EventRow:
    day: str  # YYYY-MM-DD in the plan's time zone
    type: str
    type_zh: str
    what: str  # the right's id, or the report's indicator and period
    code: str
    place: str


@dataclass(frozen=True)
class AlertRow:
    key: str
    indicator_zh: str
    state: str
    state_zh: str
    status: str
    status_zh: str
    since: str
    value: str
    required: str


def place_of(plan: Plan, code: str) -> str:
    """A division's Chinese name: the plan's, else the GB/T 2260 lists', else its code."""
    if code == plan.city.code:
        return plan.city.name_zh
    if plan.is_district(code):
        return plan.district(code).name_zh
    names = official().get(code)
    return next(iter(names.values())) if names else code


def _indicator_zh(plan: Plan, key: str | None) -> str:
    if key is None:
        return "—"
    return plan.indicator(key).name_zh if key in plan.indicator_keys else key


def _what(plan: Plan, act: RecentAct) -> str:
    if act.type == REVENUE:
        return f"{act.year}年度营收" if act.year is not None else "营收报告"
    if act.type == STATISTIC:
        return f"{_indicator_zh(plan, act.indicator)} · {act.period or '—'}"
    return act.subject or "—"


def event_rows(plan: Plan, acts: list[RecentAct]) -> list[EventRow]:
    return [
        EventRow(
            day=act.time.astimezone(plan.zone).date().isoformat(),
            type=act.type,
            type_zh=LABEL_ZH.get(act.type, act.type),
            what=_what(plan, act),
            code=act.district,
            place=place_of(plan, act.district),
        )
        for act in acts
    ]


def _amount(plan: Plan, key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key not in plan.indicator_keys:
        return f"{value:g}"
    return with_unit(value, plan.indicator(key).unit)


def _since(plan: Plan, moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone(plan.zone):%Y-%m-%d %H:%M}"


def alert_rows(plan: Plan, answer: AlertsAnswer) -> list[AlertRow]:
    """Firing before pending, each in the plan's order of indicators."""
    order = {key: place for place, key in enumerate(plan.indicator_keys)}
    alerts = sorted(
        answer.alerts,
        key=lambda a: (a.state != "firing", order.get(a.indicator, len(order)), a.indicator),
    )
    return [
        AlertRow(
            key=a.indicator,
            indicator_zh=_indicator_zh(plan, a.indicator),
            state=a.state,
            state_zh=ALERT_STATE_ZH.get(a.state, a.state),
            status=a.status,
            status_zh=STATUS_NAMES.get(a.status, a.status),
            since=_since(plan, a.since),
            value=_amount(plan, a.indicator, a.value),
            required=_amount(plan, a.indicator, a.required),
        )
        for a in alerts
    ]
