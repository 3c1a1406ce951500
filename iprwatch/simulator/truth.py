"""The ground truth: what the indicators must show after the events sent, by a reference fold.

(Kept whole, a little over 300 lines: the reference fold reads best as one piece, next to the
semantics it restates.)

Independent of the indicators service: it reads the events as sent (duplicates, re-sends,
out-of-order and late ones included) and applies the semantics of docs/architecture.md directly:
an act counts once ((source, id), then (type, subject), or (type, district, year) for revenue
reports, where the report with the latest time replaces the others); a right's acts apply in
the order of their time, whatever the order of arrival; each act lands in its month
(Asia/Shanghai); acts on or before the baseline date move no total; the city is the sum of the
districts plus the city's baseline; a ratio needs a known population. Pure: no I/O.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from shared.events import TYPE_PREFIX
from shared.plan import Plan

Key = tuple[str, str]  # (district, indicator)
VALID, HIGH = "valid_invention_patents", "high_value_invention_patents"
TRADEMARKS, AGRI, GI = (
    "valid_registered_trademarks",
    "agricultural_product_trademarks",
    "geographical_indications",
)
REVENUE = "ip_service_revenue_cny"
_COUNTS = {
    "pct.application.filed": "pct_applications_cumulative",
    "trademark.madrid.registered": "madrid_registrations_cumulative",
    "gi.product.registered": GI,
    "copyright.software.registered": "software_copyright_registrations_cumulative",
    "copyright.work.registered": "work_copyright_registrations_cumulative",
}


@dataclass
class Tally:
    """How many events were sent and what became of them."""

    events: int = 0
    duplicate_ids: int = 0
    duplicate_acts: int = 0
    unique_acts: int = 0
    baseline_acts: int = 0
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Act:
    id: str
    time: datetime
    day: date
    type: str
    data: Mapping[str, Any]


class _RightAct(NamedTuple):
    """What the fold of a right needs of one of its acts."""

    type: str
    district: str
    from_district: str | None
    flag: bool  # a patent's high_value, a trademark's agricultural
    gi: bool  # a trademark's geographical_indication
    day: date


# The reference fold's memory: the keys it has seen and the acts of each right, kept in a
# private temporary SQLite file (deleted when it is closed) instead of Python objects, so that
# memory stays flat whatever the number of events (about 1.6 million at scale 1).
_SCHEMA = (
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    f"PRAGMA cache_size = -{16 * 1024}",  # KiB: a bounded page cache; the rest on disk
    "CREATE TABLE ids (source TEXT, id TEXT, PRIMARY KEY (source, id)) WITHOUT ROWID",
    "CREATE TABLE acts (type TEXT, subject TEXT, PRIMARY KEY (type, subject)) WITHOUT ROWID",
    "CREATE TABLE right_acts (right TEXT, at INTEGER, seq INTEGER, type TEXT, district TEXT,"
    " from_district TEXT, flag INTEGER, gi INTEGER, day INTEGER,"
    " PRIMARY KEY (right, at, seq)) WITHOUT ROWID",
)
_NEW_ID = "INSERT OR IGNORE INTO ids VALUES (?, ?)"
_NEW_ACT = "INSERT OR IGNORE INTO acts VALUES (?, ?)"
_RIGHT_ACT = "INSERT INTO right_acts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_RIGHTS_IN_ORDER = (
    "SELECT right, type, district, from_district, flag, gi, day FROM right_acts"
    " ORDER BY right, at, seq"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class GroundTruth:
    """Feed it every event sent (`add`), then read the expected values (`values`, `series`)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.tally = Tally()
        self._db: sqlite3.Connection | None = sqlite3.connect("")  # a private temporary file
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._reports: dict[tuple[str, int], list[_Act]] = defaultdict(list)
        self._statistics: dict[tuple[str, str, str], list[_Act]] = defaultdict(list)
        self._deltas: dict[Key, dict[date, float]] = defaultdict(lambda: defaultdict(float))

    # -- reading the events ----------------------------------------------------------------
    def add(self, event: Mapping[str, Any]) -> None:
        if self._db is None:
            raise RuntimeError("the ground truth was already read: add every event first")
        self.tally.events += 1
        if self._db.execute(_NEW_ID, (event["source"], event["id"])).rowcount == 0:
            self.tally.duplicate_ids += 1
            return
        type_ = sys.intern(str(event["type"]).removeprefix(TYPE_PREFIX))
        data: Mapping[str, Any] = event["data"]
        instant = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
        day = instant.astimezone(self.plan.zone).date()
        if type_ == "service.revenue.reported":  # a correction replaces: all are kept
            act = _Act(str(event["id"]), instant, day, type_, data)
            self._reports[(data["district"], int(data["year"]))].append(act)
            self.tally.unique_acts += 1
            self.tally.by_type[type_] += 1
            return
        if type_ == "statistic.reported":  # an official figure: the latest report counts
            act = _Act(str(event["id"]), instant, day, type_, data)
            self._statistics[(data["district"], data["indicator"], data["period"])].append(act)
            self.tally.unique_acts += 1
            self.tally.by_type[type_] += 1
            return
        subject = str(event["subject"])
        if self._db.execute(_NEW_ACT, (type_, subject)).rowcount == 0:
            self.tally.duplicate_acts += 1
            return
        self.tally.unique_acts += 1
        self.tally.by_type[type_] += 1
        if day <= self.plan.baseline_date:
            self.tally.baseline_acts += 1
        if type_.startswith(("patent.", "trademark.registered", "trademark.lapsed")):
            trademark = type_.startswith("trademark.")
            flag = data.get("agricultural" if trademark else "high_value", False)
            at = (instant - _EPOCH) // timedelta(microseconds=1)
            self._db.execute(_RIGHT_ACT, (
                f"{type_.split('.')[0]}:{subject}", at, self.tally.events, type_,
                data["district"], data.get("from_district"), bool(flag),
                bool(data.get("geographical_indication", False)), day.toordinal(),
            ))  # fmt: skip
        elif type_ in _COUNTS:
            self._delta(data["district"], _COUNTS[type_], day, 1)
        elif type_ == "finance.pledge.registered":
            self._delta(data["district"], "ip_pledge_financing_cny_cumulative", day,
                        float(data["amount_cny"]))  # fmt: skip

    def _delta(self, district: str, indicator: str, day: date, amount: float) -> None:
        if day <= self.plan.baseline_date:
            return
        self._deltas[(district, indicator)][day.replace(day=1)] += amount

    # -- the fold of the rights, in the order of their acts --------------------------------
    def _fold_rights(self) -> None:
        if self._db is None:
            return
        db, self._db = self._db, None
        try:
            for right, rows in groupby(db.execute(_RIGHTS_IN_ORDER), key=itemgetter(0)):
                acts = [
                    _RightAct(t, d, f, bool(flag), bool(gi), date.fromordinal(day))
                    for _, t, d, f, flag, gi, day in rows
                ]
                if right.startswith("patent:"):
                    self._fold_patent(acts)
                else:
                    self._fold_trademark(acts)
        finally:
            db.close()

    def _fold_patent(self, acts: list[_RightAct]) -> None:
        high_value = False
        for act in acts:
            district, day = act.district, act.day
            if act.type == "patent.invention.granted":
                high_value = act.flag
                self._move(district, day, 1, high_value)
            elif act.type == "patent.invention.lapsed":
                self._move(district, day, -1, high_value)
            elif act.type == "patent.invention.restored":
                self._move(district, day, 1, high_value)
            elif act.type == "patent.invention.transferred":
                self._move(str(act.from_district), day, -1, high_value)
                self._move(district, day, 1, high_value)
            elif act.type == "patent.invention.reclassified":
                now = act.flag
                if now != high_value:
                    self._delta(district, HIGH, day, 1 if now else -1)
                high_value = now

    def _move(self, district: str, day: date, sign: int, high_value: bool) -> None:
        self._delta(district, VALID, day, sign)
        if high_value:
            self._delta(district, HIGH, day, sign)

    def _fold_trademark(self, acts: list[_RightAct]) -> None:
        agricultural = geographical_indication = False
        for act in acts:
            sign = 1 if act.type == "trademark.registered" else -1
            if sign == 1:
                agricultural, geographical_indication = act.flag, act.gi
            self._delta(act.district, TRADEMARKS, act.day, sign)
            if agricultural:
                self._delta(act.district, AGRI, act.day, sign)
            if geographical_indication:
                self._delta(act.district, GI, act.day, sign)

    # -- results ---------------------------------------------------------------------------
    def series(self, months: Iterable[date]) -> dict[Key, dict[date, float | None]]:
        """The expected value of each (district, indicator) at the end of each month."""
        self._fold_rights()
        window = sorted(months)
        counted = [i for i in self.plan.indicators if i.kind not in ("ratio", "annual")]
        codes = [d.code for d in self.plan.districts]
        city = self.plan.city.code
        result: dict[Key, dict[date, float | None]] = {}
        for indicator in counted:
            city_series = dict.fromkeys(window, 0.0)
            for code in codes:
                deltas = self._deltas.get((code, indicator.key), {})
                running = sum(v for m, v in deltas.items() if m < window[0]) if window else 0.0
                values: dict[date, float | None] = {}
                for month in window:
                    running += deltas.get(month, 0.0)
                    values[month] = running
                    city_series[month] += running
                result[(code, indicator.key)] = values
            base = self.plan.baseline_for(city, indicator.key)
            result[(city, indicator.key)] = {
                m: (base.value if base else 0.0) + v for m, v in city_series.items()
            }
        for indicator in self.plan.indicators:
            if indicator.kind == "ratio" and indicator.numerator is not None:
                for code in (*codes, city):
                    population = self.plan.population_of(code)
                    numerator = result[(code, indicator.numerator)]
                    # A change since the baseline is no stock to divide: a ratio needs the
                    # numerator's opening balance as well as the population.
                    known = population is not None and (
                        self.plan.baseline_for(code, indicator.numerator) is not None
                    )
                    result[(code, indicator.key)] = {
                        m: v * (10_000 / population) if known and population and v is not None
                        else None
                        for m, v in numerator.items()
                    }  # fmt: skip
        revenue = self._revenue(window, codes)
        result.update(revenue)
        return result

    def statistics(self) -> dict[str, dict[str, dict[str, float]]]:
        """The official figures reported: division -> indicator -> period -> the value of the
        latest report (by time, then id) of that (division, indicator, period)."""
        found: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
        for (division, indicator, period), reports in sorted(self._statistics.items()):
            latest = max(reports, key=lambda a: (a.time, a.id))
            found[division][indicator][period] = float(latest.data["value"])
        return {division: dict(indicators) for division, indicators in found.items()}

    def _revenue(self, window: list[date], codes: list[str]) -> dict[Key, dict[date, float | None]]:
        """An annual value: the year's latest report per district, counted from December of
        that year; at month m, the value of the latest year whose December is m or before
        (None before any report)."""
        yearly: dict[str, dict[int, float]] = defaultdict(dict)
        for (code, year), reports in self._reports.items():
            latest = max(reports, key=lambda a: (a.time, a.id))
            if latest.day > self.plan.baseline_date and year > self.plan.baseline_date.year:
                yearly[code][year] = float(latest.data["amount_cny"])
        city_years: dict[int, float] = defaultdict(float)
        for by_year in yearly.values():
            for year, amount in by_year.items():
                city_years[year] += amount

        def at(by_year: dict[int, float], month: date) -> float | None:
            years = [y for y, a in by_year.items() if a != 0 and date(y, 12, 1) <= month]
            return by_year[max(years)] if years else None

        result: dict[Key, dict[date, float | None]] = {
            (code, REVENUE): {m: at(yearly.get(code, {}), m) for m in window} for code in codes
        }
        result[(self.plan.city.code, REVENUE)] = {m: at(city_years, m) for m in window}
        return result


def write_truth(
    path: Path, truth: GroundTruth, months: list[date], scenario: Mapping[str, Any]
) -> dict[str, Any]:
    """Write the ground truth as JSON: the final values and every monthly value."""
    series = truth.series(months)
    last = months[-1]
    document: dict[str, Any] = {
        "scenario": dict(scenario),
        "tally": {**vars(truth.tally), "by_type": dict(truth.tally.by_type)},
        "as_of_month": f"{last:%Y-%m}",
        "values": _nested({k: v[last] for k, v in series.items()}),
        "series": _nested({k: {f"{m:%Y-%m}": x for m, x in v.items()} for k, v in series.items()}),
    }
    if statistics := truth.statistics():
        document["statistics"] = statistics
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True))
    return document


def _nested(flat: Mapping[Key, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = defaultdict(dict)
    for (district, indicator), value in flat.items():
        nested[district][indicator] = value
    return dict(nested)
