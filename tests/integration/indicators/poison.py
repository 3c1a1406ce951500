"""Poison records: every kind of record the fold must dead-letter, written straight to Kafka.

Each is what a broken or hostile producer could write to the events topic without going
through ingest: bytes PostgreSQL cannot store, text that is not UTF-8, JSON that is not,
missing headers, absurd amounts and times, unknown types, a subject of a megabyte.
"""

from __future__ import annotations

import json

from tests.integration.indicators.stream import Record

SUBJECT_OF_A_MEGABYTE = 1_000_000


def _headers(n: str, **changes: bytes | None) -> list[tuple[str, bytes]]:
    base: dict[str, bytes | None] = {
        "ce_specversion": b"1.0",
        "ce_id": f"poison-{n}".encode(),
        "ce_source": b"/registries/poison",
        "ce_type": b"cn.ipr.pct.application.filed",
        "ce_subject": f"PP-{n}".encode(),
        "ce_time": b"2023-05-01T00:00:00+08:00",
        "content-type": b"application/json",
    }
    base.update(changes)
    return [(name, value) for name, value in base.items() if value is not None]


def _pledge(n: str, amount: str) -> Record:
    value = ('{"district": "500101", "amount_cny": ' + amount + "}").encode()
    return b"500101", value, _headers(n, ce_type=b"cn.ipr.finance.pledge.registered")


def poison_records(tag: str, huge: bool = True) -> list[Record]:
    """One record of each kind of poison (ids made unique by `tag`)."""
    good = json.dumps({"district": "500101"}).encode()
    surrogate = "S\ud800".encode("utf-8", "surrogatepass")
    records: list[Record] = [
        (b"500101", good, _headers(f"{tag}-nul-subject", ce_subject=b"PP\x00NUL")),
        (b"500101", good, _headers(f"{tag}-nul-id", ce_id=f"poison-{tag}\x00".encode())),
        (b"500101", good, _headers(f"{tag}-nul-source", ce_source=b"/registries/\x00")),
        (b"500101", good, _headers(f"{tag}-surrogate-header", ce_subject=surrogate)),
        (b"500101", b'{"district": "500101", "x": "\\ud800"}', _headers(f"{tag}-surrogate")),
        (b"500101", b'{"district": "50\xff\xfe"}', _headers(f"{tag}-bad-utf8-value")),
        (b"500101", good, _headers(f"{tag}-bad-utf8-header", ce_subject=b"\xff\xfeP")),
        (b"500101", b"{not json", _headers(f"{tag}-not-json")),
        (b"500101", None, _headers(f"{tag}-no-value")),  # type: ignore[list-item]
        (b"500101", good, _headers(f"{tag}-no-type", ce_type=None)),
        (b"500101", good, _headers(f"{tag}-no-time", ce_time=None)),
        _pledge(f"{tag}-infinite", "1e400"),
        _pledge(f"{tag}-negative", "-5"),
        _pledge(f"{tag}-huge-amount", "1" + "0" * 30),
        (b"500101", good, _headers(f"{tag}-year", ce_time=b"99999-01-01T00:00:00+08:00")),
        (b"500101", good, _headers(f"{tag}-edge", ce_time=b"9999-12-31T23:00:00-10:00")),
        (b"500101", good, _headers(f"{tag}-type", ce_type=b"cn.ipr.unknown.thing")),
        (b"500101", good, _headers(f"{tag}-tab", ce_subject=b"PP\tTAB")),
    ]
    if huge:
        subject = b"Z" * SUBJECT_OF_A_MEGABYTE
        records.append((b"500101", good, _headers(f"{tag}-huge-subject", ce_subject=subject)))
    return records
