"""The divisions' ranking and what moved most this month.

The ranking orders the divisions by their increase since the baseline date of the plan's first
counted indicator (a change is comparable whether or not a division has a published baseline),
ties sharing a rank; beside it, each division's statuses (or outcomes, once the plan ended).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.bulletin.figures import Item, increase, monthly_change
from shared.bulletin.rows import ChangeRow, RankRow
from shared.bulletin.text import COUNTED_KINDS, OUTCOME_ZH, RANKED, STATUS_ZH, signed
from shared.outcomes import Outcome
from shared.plan import Indicator, Plan
from shared.status import Assessment

Items = Mapping[tuple[str, str], Item]


def ranked_indicators(plan: Plan, now: Items) -> list[Indicator]:
    """The counted indicators the ranking shows (the first one orders it)."""
    return [
        spec
        for spec in plan.indicators
        if spec.kind in COUNTED_KINDS and any((d.code, spec.key) in now for d in plan.districts)
    ][:RANKED]


def ranking(  # noqa: C901 - one table, column by column
    plan: Plan,
    ranked: Sequence[Indicator],
    now: Items,
    then: Items,
    found: Mapping[tuple[str, str], Assessment],
    final: Sequence[Outcome],
    ended: bool,
) -> list[RankRow]:
    area = plan.city.code
    district_status: dict[str, dict[str, int]] = {}
    for (code, _), a in found.items():
        if code != area and not ended:
            tally = district_status.setdefault(code, {})
            tally[a.status] = tally.get(a.status, 0) + 1
    if ended:
        for o in final:
            if o.division != area:
                tally = district_status.setdefault(o.division, {})
                tally[o.outcome] = tally.get(o.outcome, 0) + 1

    def targets_text(code: str) -> str:
        tally = district_status.get(code)
        if not tally:
            return "—"
        order = ("missed", "achieved", "no_data") if ended else (
            "behind", "at_risk", "on_track", "no_data"
        )  # fmt: skip
        names = OUTCOME_ZH if ended else STATUS_ZH
        return " · ".join(f"{names[s]} {tally[s]}" for s in order if tally.get(s))

    scored = []
    for d in plan.districts:
        increases = [increase(now.get((d.code, s.key))) for s in ranked]
        monthly = [
            monthly_change(plan, now[(d.code, s.key)], then.get((d.code, s.key)))
            if (d.code, s.key) in now
            else None
            for s in ranked
        ]
        scored.append((d.code, d.name_zh, increases, monthly))

    def lead_of(row: tuple[str, str, list[float | None], list[float | None]]) -> float | None:
        return row[2][0] if row[2] else None

    scored.sort(key=lambda r: (lead_of(r) is None, -(lead_of(r) or 0.0), r[0]))
    ranking: list[RankRow] = []
    for position, (code, name, increases, monthly) in enumerate(scored, start=1):
        lead = lead_of(scored[position - 1])
        tied = position > 1 and lead is not None and lead_of(scored[position - 2]) == lead
        rank = ranking[-1].rank if tied else position
        ranking.append(
            RankRow(
                rank=rank,
                code=code,
                division=name,
                increases=tuple(
                    "—" if v is None else signed(v, s.unit)
                    for v, s in zip(increases, ranked, strict=True)
                ),
                this_month=tuple(
                    "—" if v is None else signed(v, s.unit)
                    for v, s in zip(monthly, ranked, strict=True)
                ),
                targets=targets_text(code),
            )
        )

    return ranking


def movers(plan: Plan, now: Items, then: Items) -> list[ChangeRow]:
    """Per counted indicator, the division with the largest increase this month."""
    movers: list[ChangeRow] = []
    for spec in plan.indicators:
        if spec.kind not in COUNTED_KINDS:
            continue
        changes = []
        for d in plan.districts:
            item = now.get((d.code, spec.key))
            moved = (
                None if item is None else monthly_change(plan, item, then.get((d.code, spec.key)))
            )
            if moved:
                changes.append((moved, d.name_zh))
        if changes:
            moved, name = max(changes, key=lambda c: (c[0], c[1]))
            if moved > 0:
                movers.append(ChangeRow(spec.name_zh, name, signed(moved, spec.unit)))

    return movers
