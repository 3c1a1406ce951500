"""The fold: the signed deltas per (district, indicator, month) of a set of unique acts.

Pure: no framework, no I/O. Acts that depend on one another (the acts of one patent or one
trademark, the reports of one (district, year) revenue) share a state key; the contribution of
a key is a function of the SET of its acts (`contribution`), so a new act adds
`contribution(old | {new}) - contribution(old)`, and the totals do not depend on the order in
which the acts arrive (a lapse before its grant, a reclassification before the grant...).

The fold knows no plan: every unique act adds its deltas to the month of its date, whatever
that date (which months a plan counts is the plan's business: `values.Ledger`). An act's month
is its calendar month in the fold's time zone (the zone the loaded plans share).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from decimal import Decimal

from services.indicators.domain.acts import Act
from shared.event_types import (
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
    STATISTIC,
    TM_LAPSED,
    TM_REGISTERED,
    TRANSFERRED,
    WORK,
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
    """The deltas of acts, their months taken in one time zone."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone

    def counted_month(self, act: Act) -> date:
        """The first day of the act's calendar month in the fold's time zone."""
        return act.time.astimezone(self.zone).date().replace(day=1)

    def alone(self, act: Act, into: Deltas) -> None:
        """Add the deltas of an act that depends on no other act (no state key)."""
        month = self.counted_month(act)
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
        elif kind == STATISTIC:
            self._statistic(acts, into)
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
            if act is not None:
                moves(act, self.counted_month(act), act.district, sign)
        transfer = acts.get(TRANSFERRED)
        if transfer is not None and transfer.from_district:
            month = self.counted_month(transfer)
            moves(transfer, month, transfer.from_district, -1)
            moves(transfer, month, transfer.district, 1)
        if reclass is not None:
            month = self.counted_month(reclass)
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
            if act is None:
                continue
            month = self.counted_month(act)
            _add(into, (act.district, TRADEMARKS, month), sign)
            if registration is not None and registration.agricultural:
                _add(into, (act.district, AGRICULTURAL, month), sign)
            if registration is not None and registration.geographical_indication:
                _add(into, (act.district, GIS, month), sign)

    def _revenue(self, reports: Sequence[Act], into: Deltas) -> None:
        """The latest report of a (district, year) replaces the earlier ones: by time, then id."""
        latest = max(reports, key=lambda report: (report.time, report.id))
        if latest.year is not None and latest.amount is not None:
            _add(into, (latest.district, REVENUES, date(latest.year, 12, 1)), latest.amount)

    def _statistic(self, reports: Sequence[Act], into: Deltas) -> None:
        """The latest report of a (division, indicator, period) is its value: by time, then id.

        A period `YYYY` lands in its December, `YYYY-MM` in its month.
        """
        latest = max(reports, key=lambda report: (report.time, report.id))
        if latest.indicator is None or latest.period is None or latest.amount is None:
            return
        _add(into, (latest.district, latest.indicator, period_month(latest.period)), latest.amount)


def period_month(period: str) -> date:
    """The month a reported period's value lands in: `YYYY` -> its December, `YYYY-MM` -> it."""
    year, _, month = period.partition("-")
    return date(int(year), int(month) if month else 12, 1)


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
