"""A random stream of events with its expected totals, computed independently of the fold.

The generator plays each right's life in time order (grant, transfer, reclassification, lapse,
restoration; registration and lapse of trademarks; revenue reports with corrections) and
books the expected deltas as it goes, the plain way: state at the time of the act. The stream
is then shuffled (a lapse may come before its grant) and salted with duplicates: the same
record again, and the same act under a new id.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

BASELINE = date(2020, 12, 31)
SHANGHAI = timezone(timedelta(hours=8))
DISTRICTS = ("500101", "500103", "500106", "500112", "500113", "500229", "500241", "500243")
Key = tuple[str, str, date]
Record = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


@dataclass
class Stream:
    records: list[Record] = field(default_factory=list)
    expected: dict[Key, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    unique_acts: int = 0
    duplicates: int = 0
    poison: int = 0

    def book(self, district: str, indicator: str, when: datetime, amount: Decimal | int) -> None:
        """Every act counts in its month, before a plan's baseline date too (the fold knows no
        plan); a plan reads the months after its baseline month."""
        day = when.astimezone(SHANGHAI).date()
        self.expected[(district, indicator, day.replace(day=1))] += Decimal(amount)

    def totals(self) -> dict[Key, Decimal]:
        return {k: v for k, v in self.expected.items() if v != 0}


def record(
    n: int | str, kind: str, subject: str | None, when: datetime, data: dict[str, object]
) -> Record:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", f"gen-{n}".encode()),
        ("ce_source", b"/registries/test"),
        ("ce_type", f"cn.ipr.{kind}".encode()),
    ]
    if subject is not None:
        headers.append(("ce_subject", subject.encode()))
    headers.append(("ce_time", when.isoformat().encode()))
    headers.append(("content-type", b"application/json"))
    return str(data["district"]).encode(), json.dumps(data).encode(), headers


def _time(rng: random.Random, after: datetime | None = None) -> datetime:
    start = after or datetime(2019, 6, 1, tzinfo=UTC)
    moment = start + timedelta(days=rng.randint(1, 400), hours=rng.randint(0, 23))
    return moment.astimezone(SHANGHAI)


def generate(size: int, seed: int, poison: int = 0) -> Stream:  # noqa: C901 - one generator
    """About `size` records (unique acts, then ~8% duplicates), shuffled."""
    rng = random.Random(seed)
    stream = Stream()
    out: list[Record] = []
    counter = 0

    def emit(kind: str, subject: str | None, when: datetime, data: dict[str, object]) -> None:
        nonlocal counter
        counter += 1
        out.append(record(f"{seed}-{counter}", kind, subject, when, data))

    target = int(size / 1.08)
    right = 0
    while len(out) < target:
        right += 1
        district = rng.choice(DISTRICTS)
        roll = rng.random()
        if roll < 0.45:  # an invention patent's life
            subject = f"ZL{seed}{right:08d}"
            hv = rng.random() < 0.3
            t = _time(rng)
            emit("patent.invention.granted", subject, t, {"district": district, "high_value": hv})
            stream.book(district, "valid_invention_patents", t, 1)
            if hv:
                stream.book(district, "high_value_invention_patents", t, 1)
            if rng.random() < 0.2:
                t = _time(rng, t)
                other = rng.choice([d for d in DISTRICTS if d != district])
                emit("patent.invention.transferred", subject, t,
                     {"district": other, "from_district": district})  # fmt: skip
                for code, sign in ((district, -1), (other, 1)):
                    stream.book(code, "valid_invention_patents", t, sign)
                    if hv:
                        stream.book(code, "high_value_invention_patents", t, sign)
                district = other
            if rng.random() < 0.15:
                t = _time(rng, t)
                emit("patent.invention.reclassified", subject, t,
                     {"district": district, "high_value": not hv})  # fmt: skip
                stream.book(district, "high_value_invention_patents", t, -1 if hv else 1)
                hv = not hv
            if rng.random() < 0.3:
                t = _time(rng, t)
                emit("patent.invention.lapsed", subject, t, {"district": district})
                stream.book(district, "valid_invention_patents", t, -1)
                if hv:
                    stream.book(district, "high_value_invention_patents", t, -1)
                if rng.random() < 0.3:
                    t = _time(rng, t)
                    emit("patent.invention.restored", subject, t, {"district": district})
                    stream.book(district, "valid_invention_patents", t, 1)
                    if hv:
                        stream.book(district, "high_value_invention_patents", t, 1)
        elif roll < 0.7:  # a trademark
            subject = f"TM{seed}{right:08d}"
            agri, gi = rng.random() < 0.2, rng.random() < 0.05
            t = _time(rng)
            flags_data = {"agricultural": agri, "geographical_indication": gi}
            emit("trademark.registered", subject, t, {"district": district, **flags_data})
            flags = ["valid_registered_trademarks"]
            flags += ["agricultural_product_trademarks"] if agri else []
            flags += ["geographical_indications"] if gi else []
            for indicator in flags:
                stream.book(district, indicator, t, 1)
            if rng.random() < 0.25:
                t = _time(rng, t)
                emit("trademark.lapsed", subject, t, {"district": district})
                for indicator in flags:
                    stream.book(district, indicator, t, -1)
        elif roll < 0.97:  # an act that stands alone
            kind, indicator = rng.choice([
                ("pct.application.filed", "pct_applications_cumulative"),
                ("trademark.madrid.registered", "madrid_registrations_cumulative"),
                ("gi.product.registered", "geographical_indications"),
                ("copyright.software.registered", "software_copyright_registrations_cumulative"),
                ("copyright.work.registered", "work_copyright_registrations_cumulative"),
                ("finance.pledge.registered", "ip_pledge_financing_cny_cumulative"),
            ])  # fmt: skip
            t = _time(rng)
            data: dict[str, object] = {"district": district}
            amount: Decimal | int = 1
            if kind.startswith("finance"):
                cents = rng.randint(1, 10**11)
                data["amount_cny"] = cents / 100
                amount = Decimal(repr(cents / 100))
            emit(kind, f"X{seed}-{right}", t, data)
            stream.book(district, indicator, t, amount)
        else:  # the revenue reports of one (district, year), later ones correcting
            year = rng.choice((2021, 2022, 2023, 2024))
            if any(k == (district, "ip_service_revenue_cny", date(year, 12, 1))
                   for k in stream.expected):  # fmt: skip
                continue
            t = datetime(year + 1, 1, 15, tzinfo=SHANGHAI)
            amount_cny = 0.0
            for _ in range(rng.randint(1, 3)):
                t += timedelta(days=rng.randint(1, 60))
                amount_cny = rng.randint(0, 10**10) / 100
                emit("service.revenue.reported", None, t,
                     {"district": district, "year": year, "amount_cny": amount_cny})  # fmt: skip
            stream.expected[(district, "ip_service_revenue_cny", date(year, 12, 1))] += Decimal(
                repr(amount_cny)
            )
    stream.unique_acts = len(out)
    duplicates: list[Record] = []
    for key, value, headers in rng.sample(out, k=len(out) // 12):
        if rng.random() < 0.5:
            duplicates.append((key, value, headers))
        else:
            renamed = [(n, v + b"-again" if n == "ce_id" else v) for n, v in headers]
            if b"service.revenue" in dict(headers)["ce_type"]:
                continue  # a revenue report under a new id is a correction, not a duplicate
            duplicates.append((key, value, renamed))
    stream.duplicates = len(duplicates)
    poisoned = [(b"500101", b"{not json", [("ce_id", b"p")]) for _ in range(poison)]
    stream.poison = poison
    out.extend(duplicates)
    out.extend(poisoned)
    rng.shuffle(out)
    stream.records = out
    return stream
