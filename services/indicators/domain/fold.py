"""The fold: the signed deltas per (district, indicator, month) of a set of unique acts.

Pure: no framework, no I/O. Acts that depend on one another (the acts of one patent or one
trademark, the reports of one (district, year) revenue) share a state key; the contribution of
a key is a function of the SET of its acts (`contribution`), so a new act adds
`contribution(old | {new}) - contribution(old)`, and the totals do not depend on the order in
which the acts arrive (a lapse before its grant, a reclassification before the grant...).

Acts dated on or before the baseline date move no total (they are in the plan's baselines) but
still say what a right is: a high-value grant of 2019 makes its 2023 lapse a high-value lapse.
An act's month is its calendar month in the plan's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, tzinfo
from decimal import Decimal

from services.indicators.domain.acts import (
    GI_PRODUCT,
    GRANTED,
    LAPSED,
    MADRID,
    PCT_FILED,
    PLEDGE,
    RECLASSIFIED,
    RESTORED,
    REVENUE,
    SOFTWARE,
    TM_LAPSED,
    TM_REGISTERED,
    TRANSFERRED,
    WORK,
    Act,
)

Amount = int | Decimal
DeltaKey = tuple[str, str, date]  # (district, indicator, month)
Deltas = dict[DeltaKey, Amount]

VALID = "valid_invention_patents"
HIGH_VALUE = "high_value_invention_patents"
PCT = "pct_applications_cumulative"
TRADEMARKS = "valid_registered_trademarks"
AGRICULTURAL = "agricultural_product_trademarks"
GIS = "geographical_indications"
MADRID_REGISTRATIONS = "madrid_registrations_cumulative"
SOFTWARE_COPYRIGHTS = "software_copyright_registrations_cumulative"
WORK_COPYRIGHTS = "work_copyright_registrations_cumulative"
PLEDGES = "ip_pledge_financing_cny_cumulative"
REVENUES = "ip_service_revenue_cny"

_COUNTED_ALONE = {
    PCT_FILED: PCT,
    MADRID: MADRID_REGISTRATIONS,
    GI_PRODUCT: GIS,
    SOFTWARE: SOFTWARE_COPYRIGHTS,
    WORK: WORK_COPYRIGHTS,
}


class Fold:
    """The deltas of acts, for a plan's baseline date and time zone."""

    def __init__(self, baseline_date: date, zone: tzinfo) -> None:
        self.baseline_date = baseline_date
        self.baseline_month = baseline_date.replace(day=1)
        self.zone = zone

    def day(self, act: Act) -> date:
        return act.time.astimezone(self.zone).date()

    def counted_month(self, act: Act) -> date | None:
        """The act's month, or None when the act is in the baseline."""
        day = act.time.astimezone(self.zone).date()
        return day.replace(day=1) if day > self.baseline_date else None

    def counts(self, act: Act) -> bool:
        return self.day(act) > self.baseline_date

    def month(self, act: Act) -> date:
        return self.day(act).replace(day=1)

    def alone(self, act: Act, into: Deltas) -> None:
        """Add the deltas of an act that depends on no other act (no state key)."""
        day = self.day(act)
        if day <= self.baseline_date:
            return
        month = day.replace(day=1)
        indicator = _COUNTED_ALONE.get(act.type)
        if indicator is not None:
            _add(into, (act.district, indicator, month), 1)
        elif act.type == PLEDGE and act.amount is not None:
            _add(into, (act.district, PLEDGES, month), act.amount)

    def change(self, old: Sequence[Act], new: Sequence[Act], into: Deltas) -> None:
        """Add contribution(old + new) - contribution(old) of one state key."""
        if not old:
            for key, amount in self.contribution(new).items():
                _add(into, key, amount)
            return
        before = self.contribution(old)
        after = self.contribution([*old, *new])
        for key, amount in after.items():
            _add(into, key, amount - before.pop(key, 0))
        for key, amount in before.items():
            _add(into, key, -amount)

    def contribution(self, acts: Sequence[Act]) -> Deltas:
        """What the acts of one state key add to the totals, whatever their order."""
        into: Deltas = {}
        if not acts:
            return into
        kind = acts[0].type
        if kind == REVENUE:
            self._revenue(acts, into)
        elif kind in (TM_REGISTERED, TM_LAPSED):
            self._trademark(_first_of_each_type(acts), into)
        else:
            self._patent(_first_of_each_type(acts), into)
        return {key: amount for key, amount in into.items() if amount != 0}

    def _patent(self, acts: dict[str, Act], into: Deltas) -> None:
        grant, lapse, restore = acts.get(GRANTED), acts.get(LAPSED), acts.get(RESTORED)
        reclass = acts.get(RECLASSIFIED)

        def high_value_at(act: Act) -> bool:
            if reclass is not None and act.time >= reclass.time:
                return bool(reclass.high_value)
            if grant is not None:
                return bool(grant.high_value)
            return reclass is not None and not reclass.high_value

        def moves(act: Act, month: date, district: str, sign: int) -> None:
            _add(into, (district, VALID, month), sign)
            if high_value_at(act):
                _add(into, (district, HIGH_VALUE, month), sign)

        for act, sign in ((grant, 1), (lapse, -1), (restore, 1)):
            if act is not None and (month := self.counted_month(act)) is not None:
                moves(act, month, act.district, sign)
        transfer = acts.get(TRANSFERRED)
        if transfer is not None and transfer.from_district:
            month = self.counted_month(transfer)
            if month is not None:
                moves(transfer, month, transfer.from_district, -1)
                moves(transfer, month, transfer.district, 1)
        if reclass is not None and (month := self.counted_month(reclass)) is not None:
            before = bool(grant.high_value) if grant is not None else not reclass.high_value
            lapsed = lapse is not None and lapse.time <= reclass.time
            restored = restore is not None and lapse is not None and restore.time >= lapse.time
            valid = not lapsed or (
                restored and restore is not None and restore.time <= reclass.time
            )
            if valid and before != bool(reclass.high_value):
                sign = 1 if reclass.high_value else -1
                _add(into, (reclass.district, HIGH_VALUE, month), sign)

    def _trademark(self, acts: dict[str, Act], into: Deltas) -> None:
        registration, lapse = acts.get(TM_REGISTERED), acts.get(TM_LAPSED)
        for act, sign in ((registration, 1), (lapse, -1)):
            month = None if act is None else self.counted_month(act)
            if act is None or month is None:
                continue
            _add(into, (act.district, TRADEMARKS, month), sign)
            if registration is not None and registration.agricultural:
                _add(into, (act.district, AGRICULTURAL, month), sign)
            if registration is not None and registration.geographical_indication:
                _add(into, (act.district, GIS, month), sign)

    def _revenue(self, reports: Sequence[Act], into: Deltas) -> None:
        """The latest report of a (district, year) replaces the earlier ones: by time, then id."""
        latest = max(reports, key=lambda report: (report.time, report.id))
        if latest.year is None or latest.amount is None or not self.counts(latest):
            return
        month = date(latest.year, 12, 1)
        if month > self.baseline_month:
            _add(into, (latest.district, REVENUES, month), latest.amount)


def _first_of_each_type(acts: Sequence[Act]) -> dict[str, Act]:
    """One act per type (the natural key keeps one; the earliest wins if ever there are two)."""
    if len(acts) == 1:
        return {acts[0].type: acts[0]}
    first: dict[str, Act] = {}
    for act in sorted(acts, key=lambda a: (a.time, a.id)):
        first.setdefault(act.type, act)
    return first


def _add(into: Deltas, key: DeltaKey, amount: Amount) -> None:
    into[key] = into.get(key, 0) + amount


def merged(parts: Iterable[Deltas]) -> Deltas:
    total: dict[DeltaKey, Amount] = defaultdict(int)
    for part in parts:
        for key, amount in part.items():
            total[key] += amount
    return dict(total)
