"""The event stream: deterministic for a seed, month by month, with the mess of a real feed.

(Kept whole, under 400 lines: a right's acts are drawn together, and the feed's mess is in
terms of them.)

Pure: no I/O. Each month has its own random generator (seeded with the seed and the month), so
a month's acts do not depend on the window's end: a longer re-run resends the same events (same
ids, all duplicates) and adds the new ones. A right's later acts (lapse, restoration, transfer,
reclassification) are drawn with its grant and sent in their own month, if within the window.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from iprwatch.simulator import model
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.statistics import Reported, reported_series, reports_of_year
from shared.events import TYPE_PREFIX
from shared.months import month_end, months, months_between
from shared.plan import Plan

Event = dict[str, Any]
SOURCES = {
    "patent": "/registries/cnipa/patents",
    "pct": "/registries/cnipa/pct",
    "trademark": "/registries/cnipa/trademarks",
    "madrid": "/registries/cnipa/madrid",
    "gi": "/registries/cnipa/geographical-indications",
    "software": "/registries/ccpc/software",
    "work": "/registries/cq-copyright/works",
    "pledge": "/registries/cq-finance/pledges",
    "revenue": "/registries/cq-ipo/service-revenue",
    "statistic": "/registries/cnipa/statistics",
}


@dataclass
class _Context:
    plan: Plan
    scenario: Scenario
    weights: dict[str, float]
    zone: ZoneInfo
    end_day: date
    pending: list[tuple[date, int, Event]]  # later acts of rights, by date
    targeted: dict[tuple[str, str], float]  # (district, flow) -> acts a month, on its target
    pledge_size: dict[str, float]  # district -> its pledges' mean size, in 10,000 yuan
    counter: int = 0

    def later(self, day: date, event: Event) -> None:
        self.counter += 1
        heapq.heappush(self.pending, (day, self.counter, event))


def generate(
    plan: Plan, scenario: Scenario, statistics_from: Sequence[Plan] = ()
) -> Iterator[Event]:
    """The events to send, in sending order (shuffled within months, some late or repeated).

    With `statistics_from` (the loaded plans), also the official statistics of their `reported`
    indicators for the divisions simulated (`statistics.py`), each sent in its month after that
    month's acts, as published (no duplicates, no delays): nothing else of the stream changes.
    """
    end_day = month_end(scenario.last_month)
    if scenario.until is not None:
        end_day = min(end_day, scenario.until)
    ctx = _Context(
        plan=plan,
        scenario=scenario,
        weights=model.district_weights(plan, scenario.rates, scenario.lagging),
        zone=plan.zone,
        end_day=end_day,
        pending=[],
        **_on_target(plan, scenario),
    )
    delayed: dict[int, list[Event]] = defaultdict(list)
    covered = [plan.city.code, *sorted(plan.district_codes)]
    statistics = reported_series(statistics_from, covered) if statistics_from else []
    published: dict[date, list[Event]] = defaultdict(list)
    window = months(scenario.first_month, scenario.last_month)
    mess = scenario.mess
    for index, month in enumerate(window):
        if month > end_day:
            break
        rng = random.Random(f"{scenario.seed}:{month:%Y-%m}")  # noqa: S311 - simulation
        fresh = list(_month_acts(ctx, month, rng))
        if index == 0:
            fresh += _baseline_acts(ctx)
        while ctx.pending and ctx.pending[0][0] <= month_end(month):
            fresh.append(heapq.heappop(ctx.pending)[2])
        messy = random.Random(f"{scenario.seed}:{month:%Y-%m}:mess")  # noqa: S311
        sent: list[Event] = []
        for event in fresh:
            if messy.random() < mess.utc_share:
                event["time"] = _in_utc(event["time"])
            draw = messy.random()
            if draw < mess.late_share:
                delayed[index + messy.randint(1, 6)].append(event)
                continue
            sent.append(event)
            draw -= mess.late_share
            if draw < mess.duplicate_share:
                delayed[index + messy.randint(0, 2)].append(event)
            elif draw < mess.duplicate_share + mess.resent_share:
                delayed[index + messy.randint(0, 3)].append({**event, "id": f"{event['id']}-re"})
        sent += delayed.pop(index, [])
        messy.shuffle(sent)
        yield from sent
        if statistics and month.month == 4:
            for day, event in _statistic_reports(ctx, statistics, month.year - 1):
                published[day.replace(day=1)].append(event)
        yield from published.pop(month, [])
    for index in sorted(delayed):
        yield from delayed[index]


# The flows that feed a count a district may have a target for (stocks with lapses excluded).
_TARGETED_FLOWS = {
    "geographical_indications": ("gi", "gi_trademark"),
    "madrid_registrations_cumulative": ("madrid",),
    "pct_applications_cumulative": ("pct",),
    "software_copyright_registrations_cumulative": ("software",),
    "work_copyright_registrations_cumulative": ("work",),
}


def _on_target(plan: Plan, scenario: Scenario) -> dict[str, Any]:
    """A district with its own target follows its target's path (times `lag_factor` if it
    lags), not the population share: a target is an absolute number, so it is not scaled.
    Its pledges come one a month, each about a month's share of its target."""
    months_planned = months_between(plan.baseline_date, plan.target_date)
    targeted: dict[tuple[str, str], float] = {}
    pledge_size: dict[str, float] = {}
    for district in plan.districts:
        factor = scenario.rates.lag_factor if district.code in scenario.lagging else 1.0
        for key, target in district.targets.items():
            baseline = district.baselines.get(key)
            per_month = (target.value - (baseline.value if baseline else 0.0)) / months_planned
            flows = _TARGETED_FLOWS.get(key, ())
            for flow in flows:
                targeted[(district.code, flow)] = per_month * factor / len(flows)
            if key == "ip_pledge_financing_cny_cumulative":
                targeted[(district.code, "pledge")] = 1.0
                pledge_size[district.code] = per_month * factor / 10_000
    return {"targeted": targeted, "pledge_size": pledge_size}


def _in_utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _count(rng: random.Random, expected: float) -> int:
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _days(month: date, rng: random.Random, n: int) -> list[date]:
    """`n` days of the month, drawn whatever the window's end (so that draws never shift)."""
    last = month_end(month).day
    return sorted(month.replace(day=rng.randint(1, last)) for _ in range(n))


def _rng(ctx: _Context, name: str) -> random.Random:
    """The random generator of one right or report: its life never depends on the window."""
    return random.Random(f"{ctx.scenario.seed}:{name}")  # noqa: S311 - simulation


def _event(
    ctx: _Context, rng: random.Random, kind: str, type_: str, subject: str | None, day: date,
    data: dict[str, Any], verb: str,
) -> Event:  # fmt: skip
    at = datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59),
                  tzinfo=ctx.zone)  # fmt: skip
    event: Event = {
        "specversion": "1.0",
        "id": f"sim{ctx.scenario.seed}-{subject}-{verb}",
        "source": SOURCES[kind],
        "type": f"{TYPE_PREFIX}{type_}",
        "time": at.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject is not None:
        event["subject"] = subject
    return event


def _month_acts(ctx: _Context, month: date, rng: random.Random) -> Iterator[Event]:
    year, scale, seed = month.year, ctx.scenario.scale, ctx.scenario.seed
    gi_half = model.per_year(model.GEOGRAPHICAL_INDICATIONS, year) / 2
    flows: list[tuple[str, float]] = [
        ("grant", model.per_year(model.INVENTION_GRANTS, year)),
        ("stock_lapse", model.per_year(model.STOCK_LAPSES, year)),
        ("pct", model.per_year(model.PCT_FILINGS, year)),
        ("trademark", model.per_year(model.TRADEMARKS, year)),
        ("gi_trademark", gi_half),
        ("gi", gi_half),
        ("madrid", model.per_year(model.MADRID, year)),
        ("software", model.per_year(model.SOFTWARE_COPYRIGHTS, year)),
        ("work", model.per_year(model.WORK_COPYRIGHTS, year)),
        ("pledge", model.per_year(model.PLEDGES, year)),
    ]
    stamp = f"{month:%Y%m}"
    for code in sorted(ctx.weights):
        weight = ctx.weights[code]
        for flow, per_year in flows:
            targeted = ctx.targeted.get((code, flow))
            expected = per_year * scale * weight / 12 if targeted is None else targeted
            for seq, day in enumerate(_days(month, rng, _count(rng, expected))):
                if day <= ctx.end_day:
                    number = f"{stamp}{code[-3:]}{seq:05d}.{seed}"
                    yield from _acts_of(ctx, _rng(ctx, f"{flow}:{number}"), flow, code, number, day)
    if month.month == 12:
        yield from _revenue_reports(ctx, month)


def _acts_of(
    ctx: _Context, rng: random.Random, flow: str, code: str, number: str, day: date
) -> Iterator[Event]:
    rates = ctx.scenario.rates
    district = {"district": code}
    if flow == "grant":
        yield from _patent_life(ctx, rng, f"ZL{number}", code, day)
    elif flow in ("trademark", "gi_trademark"):
        gi = flow == "gi_trademark"
        agricultural = gi or rng.random() < rates.agricultural_share
        data = {**district, "agricultural": agricultural, "geographical_indication": gi}
        subject = f"TM{number}"
        yield _event(ctx, rng, "trademark", "trademark.registered", subject, day, data, "reg")
        if rng.random() < rates.trademark_lapse_share:
            lapse_day = day + timedelta(days=rng.randint(180, 1800))
            if lapse_day <= ctx.end_day:
                lapse = _event(ctx, rng, "trademark", "trademark.lapsed", subject, lapse_day,
                               dict(district), "lapse")  # fmt: skip
                ctx.later(lapse_day, lapse)
    elif flow == "stock_lapse":  # a patent of the baseline stock: granted before 2021
        subject = f"ZL{rng.randint(2005, 2020)}{number}"
        data = {**district, "reason": rng.choice(("annual fee unpaid", "term expired"))}
        yield _event(ctx, rng, "patent", "patent.invention.lapsed", subject, day, data, "lapse")
    elif flow == "pledge":
        size = ctx.pledge_size.get(code)
        tens = rng.randint(100, 2000) if size is None else round(size * rng.uniform(0.5, 1.5))
        data = {**district, "amount_cny": float(max(1, tens) * 10_000)}
        yield _event(ctx, rng, "pledge", "finance.pledge.registered", f"PL{number}", day, data,
                     "reg")  # fmt: skip
    else:
        kind, type_, prefix = {
            "pct": ("pct", "pct.application.filed", "PCT/CN"),
            "gi": ("gi", "gi.product.registered", "GI"),
            "madrid": ("madrid", "trademark.madrid.registered", "MD"),
            "software": ("software", "copyright.software.registered", "SR"),
            "work": ("work", "copyright.work.registered", "WR"),
        }[flow]
        yield _event(ctx, rng, kind, type_, f"{prefix}{number}", day, dict(district), "reg")


def _patent_life(
    ctx: _Context, rng: random.Random, subject: str, code: str, day: date
) -> Iterator[Event]:
    """A grant now, and its later acts (each at most once) queued for their own months."""
    rates = ctx.scenario.rates
    high_value = rng.random() < rates.high_value_share
    data = {"district": code, "high_value": high_value}
    yield _event(ctx, rng, "patent", "patent.invention.granted", subject, day, data, "grant")
    plans: list[tuple[int, str]] = []
    if rng.random() < rates.transfer_share:
        plans.append((rng.randint(90, 1080), "transfer"))
    if rng.random() < rates.reclassify_share:
        plans.append((rng.randint(180, 1080), "reclassify"))
    if rng.random() < rates.invention_lapse_share:
        lapse_after = rng.randint(180, 1440)
        plans.append((lapse_after, "lapse"))
        if rng.random() < rates.restore_share:
            plans.append((lapse_after + rng.randint(30, 180), "restore"))
    plans.sort()
    current, lapsed, last = code, False, day
    codes = sorted(ctx.weights)
    for offset, verb in plans:
        when = max(day + timedelta(days=offset), last + timedelta(days=1))
        last = when
        if when > ctx.end_day:
            break
        if verb == "transfer":
            if lapsed:
                continue
            target = rng.choice([c for c in codes if c != current])
            data = {"district": target, "from_district": current}
            event = _event(ctx, rng, "patent", "patent.invention.transferred", subject, when,
                           data, verb)  # fmt: skip
            current = target
        elif verb == "reclassify":
            if lapsed:
                continue
            high_value = not high_value
            data = {"district": current, "high_value": high_value}
            event = _event(ctx, rng, "patent", "patent.invention.reclassified", subject, when,
                           data, verb)  # fmt: skip
        elif verb == "lapse":
            lapsed = True
            event = _event(ctx, rng, "patent", "patent.invention.lapsed", subject, when,
                           {"district": current, "reason": "annual fee unpaid"}, verb)  # fmt: skip
        else:
            lapsed = False
            event = _event(ctx, rng, "patent", "patent.invention.restored", subject, when,
                           {"district": current}, verb)  # fmt: skip
        ctx.later(when, event)


def _revenue_reports(ctx: _Context, month: date) -> Iterator[Event]:
    """Each district reports its year's IP service revenue in December; some correct it."""
    year = month.year
    citywide = model.revenue_of(year)
    total_weight = sum(model.district_weights(ctx.plan, ctx.scenario.rates, frozenset()).values())
    for code in sorted(ctx.weights):
        rng = _rng(ctx, f"revenue:{code}:{year}")
        amount = round(citywide * ctx.weights[code] / total_weight / 10_000) * 10_000
        reports = [(rng.randint(1, 12), float(amount), "report")]
        if rng.random() < ctx.scenario.rates.revenue_correction_share:
            corrected = round(amount * rng.uniform(0.9, 1.1) / 10_000) * 10_000
            reports.append((rng.randint(20, 28), float(corrected), "correction"))
        for day_of_month, value, verb in reports:
            day = month.replace(day=day_of_month)
            data = {"district": code, "year": year, "amount_cny": value}
            event = _event(ctx, rng, "revenue", "service.revenue.reported", None, day, data, verb)
            event["id"] = f"sim{ctx.scenario.seed}-revenue-{code}-{year}-{verb}"
            if day <= ctx.end_day:
                yield event


def _statistic_reports(
    ctx: _Context, statistics: list[Reported], year: int
) -> Iterator[tuple[date, Event]]:
    """The figures of `year` (after each series' baseline year), published from April of the
    next year, within the window."""
    seed = ctx.scenario.seed
    due = [one for one in statistics if year > one.baseline_year]
    for report in reports_of_year(due, year, seed):
        one = report.series
        day = date(year + 1, report.month, report.day_of_month)
        if day > ctx.end_day:
            continue
        data = {"district": one.division, "indicator": one.indicator, "period": str(year),
                "value": report.value, "document": f"{year}年知识产权统计数据（模拟）"}  # fmt: skip
        rng = _rng(ctx, f"statistic:{one.division}:{one.indicator}:{year}:{report.verb}")
        event = _event(ctx, rng, "statistic", "statistic.reported", None, day, data, report.verb)
        event["id"] = f"sim{seed}-statistic-{one.division}-{one.indicator}-{year}-{report.verb}"
        yield day, event


def _baseline_acts(ctx: _Context) -> list[Event]:
    """A few grants of December 2020, reported late: already in the baseline, moving no total."""
    rng = _rng(ctx, "baseline")
    codes = sorted(ctx.weights)
    events = []
    for n in range(ctx.scenario.mess.baseline_acts):
        code = rng.choice(codes)
        day = date(2020, 12, rng.randint(1, 31))
        subject = f"ZL202012{code[-3:]}9{n:04d}.{ctx.scenario.seed}"
        data = {"district": code, "high_value": False}
        events.append(
            _event(ctx, rng, "patent", "patent.invention.granted", subject, day, data, "grant")
        )
    return events
