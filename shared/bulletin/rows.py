"""What a bulletin is made of: its rows and the `Bulletin` itself, every figure already
formatted as officials read it, so that the template only lays it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.charts import Chart
from shared.status import Status


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the area, against the plan, at the end of the month."""

    key: str
    name: str
    unit: str
    value: str  # "5.23万件", or "+1,234件" when it is a change since the baseline date
    is_change: bool
    baseline: str
    target: str
    required: str
    progress: str
    status: Status
    status_zh: str
    previous: str
    change: str  # this month


@dataclass(frozen=True)
class OutcomeRow:
    division: str
    indicator: str
    value: str
    target: str
    shortfall: str
    outcome: str
    outcome_zh: str


@dataclass(frozen=True)
class RankRow:
    rank: int
    code: str
    division: str
    increases: tuple[str, ...]  # since the baseline date, one per ranked indicator
    this_month: tuple[str, ...]
    targets: str  # "落后 1 · 风险 0 · 符合 2", or "—" without targets


@dataclass(frozen=True)
class ChangeRow:
    """A division that moved most on an indicator this month."""

    indicator: str
    division: str
    change: str


@dataclass(frozen=True)
class StatusChange:
    division: str
    indicator: str
    before: str
    after: str


@dataclass(frozen=True)
class AlertRow:
    division: str
    indicator: str
    state: str
    status: str
    severity: str
    value: str
    required: str
    since: str


@dataclass(frozen=True)
class Bulletin:
    plan_id: str
    plan_name: str
    document_no: str
    area: str
    period: str  # "2021年1月—2025年12月"
    state: str  # the plan's state on the month's last day, in Chinese
    ended: bool
    month: str
    month_label: str
    as_of: date
    as_of_label: str
    made_on: date
    made_on_label: str
    counts: dict[str, int]  # status (or outcome, once ended) → number of judged pairs
    judged: int
    unjudged: int  # pairs without a target: only their values are reported
    indicators: list[IndicatorRow]
    charts: list[Chart]
    outcomes: list[OutcomeRow]
    ranked_names: tuple[str, ...]
    ranked_units: tuple[str, ...]
    ranking: list[RankRow]
    movers: list[ChangeRow]
    status_changes: list[StatusChange]
    alerts: list[AlertRow] | None
    alerts_note: str
    summary: list[str] = field(default_factory=list)  # the summary's sentences
