"""What the board shows of a plan, computed from its ledger: cells, cards, ranks, charts' data.

Every status comes from `shared.status.assess` (the one definition), every final evaluation of
an ended plan from `shared.outcomes.outcome`. A value without an opening balance is a change
since the baseline date: it is shown with a sign and labelled as a change, never as a stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.indicators.domain.values import LATEST_KINDS, Ledger
from shared.months import next_month
from shared.numbers import UNIT_ZH, with_unit
from shared.outcomes import Outcome, outcome
from shared.plan import Indicator
from shared.status import Assessment, Status, assess
from shared.trajectory import month_end, required_value

STATUS_ZH: dict[Status, str] = {
    "on_track": "达到进度",
    "at_risk": "有落后风险",
    "behind": "落后于进度",
    "no_target": "无目标",
    "no_data": "无数据",
}
ENDED_ZH: dict[Status, str] = {**STATUS_ZH, "on_track": "已完成目标", "behind": "未完成目标"}
MARK: dict[Status, str] = {
    "on_track": "✓",
    "at_risk": "!",
    "behind": "✗",
    "no_target": "–",
    "no_data": "?",
}
WORST: tuple[Status, ...] = ("behind", "at_risk", "on_track", "no_target", "no_data")
SPARK_POINTS = 60


@dataclass(frozen=True)
class Cell:
    """One (division, indicator) as the board shows it."""

    code: str
    key: str
    status: Status
    status_zh: str
    value: float | None
    shown: str  # the value with its unit, "—" when unknown, signed when a change
    change: bool  # a change since the baseline date (no opening balance), not a stock
    derived: bool  # the opening balance is derived from the preceding plan
    progress: float | None  # share of the planned change achieved
    target: str | None
    required: str | None
    path_share: float | None  # where the path stands today, as a share of the planned change
    month: str | None  # the latest month with data
    provisional: bool
    assessment: Assessment
    outcome: Outcome | None
    rank: int | None = None

    @property
    def mark(self) -> str:
        return MARK[self.status]


def shown(value: float | None, unit: str, change: bool) -> str:
    if value is None:
        return "—"
    text = with_unit(value, unit)
    return f"+{text}" if change and value >= 0 else text


def cell(ledger: Ledger, code: str, spec: Indicator, on: date) -> Cell:
    """The cell of (code, indicator) on the day `on`."""
    plan = ledger.plan
    series = ledger.series(code, spec.key)
    judged = assess(plan, code, spec.key, series, on)
    progress = ledger.progress(code, spec.key)
    ended = plan.state(on) == "ended"
    final = outcome(plan, code, spec.key, series) if ended else None
    change = progress.baseline is None and spec.kind not in LATEST_KINDS and spec.kind != "ratio"
    required = None if ended else required_value(plan, code, spec.key, on)
    path_share = None
    if progress.target is not None:
        start = progress.baseline if progress.baseline is not None else 0.0
        if ended:
            path_share = 1.0
        elif required is not None and progress.target != start:
            path_share = (required - start) / (progress.target - start)
    last = ledger.last_month(code, spec.key)
    return Cell(
        code=code,
        key=spec.key,
        status=judged.status,
        status_zh=(ENDED_ZH if ended else STATUS_ZH)[judged.status],
        value=progress.value,
        shown=shown(progress.value, spec.unit, change),
        change=change,
        derived=progress.baseline_kind == "derived",
        progress=progress.progress,
        target=None if progress.target is None else shown(progress.target, spec.unit, change),
        required=None if required is None else shown(required, spec.unit, change),
        path_share=path_share,
        month=None if last is None else f"{last:%Y-%m}",
        provisional=judged.provisional,
        assessment=judged,
        outcome=final,
    )


def ranked(cells: list[Cell]) -> dict[str, int]:
    """Divisions' ranks on one indicator: by the share of the planned change achieved where
    any division has one (those without come last, unranked), else by value; 1 is best."""
    if any(c.progress is not None for c in cells):
        known = [(c.progress, c.code) for c in cells if c.progress is not None]
    else:
        known = [(c.value, c.code) for c in cells if c.value is not None]
    ordered = sorted(known, key=lambda pair: -float(pair[0] or 0.0))
    ranks: dict[str, int] = {}
    previous: float | None = None
    for place, (score, code) in enumerate(ordered, start=1):
        ranks[code] = ranks[ordered[place - 2][1]] if score == previous else place
        previous = score
    return ranks


def overall(cells: list[Cell]) -> Status:
    """A division's worst status over its indicators."""
    found = {c.status for c in cells}
    return next((s for s in WORST if s in found), "no_data")


def spark(series: list[tuple[date, float]]) -> str | None:
    """An SVG polyline's points (viewBox 0 0 100 30) for a sparkline, None with < 2 points."""
    if len(series) < 2:
        return None
    step = max(1, len(series) // SPARK_POINTS)
    points = series[::step]
    if points[-1] != series[-1]:
        points.append(series[-1])
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = high - low or 1.0
    last = len(points) - 1
    return " ".join(
        f"{i * 100 / last:.1f},{28 - (v - low) * 26 / span:.1f}" for i, v in enumerate(values)
    )


def path(ledger: Ledger, code: str, key: str) -> list[tuple[str, float]]:
    """The plan's required path of (code, indicator) at each month end, empty without target."""
    plan = ledger.plan
    found: list[tuple[str, float]] = []
    month = ledger.baseline_month
    while month <= ledger.last_plan_month:
        label = f"{month:%Y-%m}"
        value = required_value(plan, code, key, month_end(label))
        if value is None:
            return []
        found.append((label, value))
        month = next_month(month)
    return found


def unit_zh(spec: Indicator) -> str:
    return UNIT_ZH.get(spec.unit, "")
