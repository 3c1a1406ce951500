"""Reading Kafka records: the fast path reads exactly what the contract's models read."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import ValidationError

from services.indicators.domain.acts import Unfoldable, _fast_act, act_of, parse_record
from shared.events import from_kafka
from tests.integration.indicators.stream import generate

Headers = list[tuple[str, bytes]]

MUTATIONS: list[tuple[str, Any]] = [
    ("ce_id", b" padded"), ("ce_id", b""), ("ce_id", b"x" * 257), ("ce_specversion", b"0.3"),
    ("ce_time", b"2023-05-12"), ("ce_time", b"2023-05-12T00:00:00"),
    ("ce_time", b"2023-05-12 00:00:00+08:00"), ("ce_time", b"1984-12-31T00:00:00+08:00"),
    ("ce_time", b"2023-02-30T00:00:00Z"), ("ce_time", b"2023-05-12T00:00:00.1234567+08:00"),
    ("ce_type", b"cn.ipr.unknown"), ("ce_subject", None), ("ce_extra", b"1"),
    ("district", "600101"), ("district", 500101), ("high_value", "true"), ("high_value", 1),
    ("amount_cny", "12.5"), ("amount_cny", -1), ("amount_cny", 1e13), ("amount_cny", True),
    ("year", 1999), ("year", 2023.0), ("year", "2023"), ("extra", 1),
    ("from_district", "500101"), ("agricultural", None), ("reason", 5), ("category", "x" * 65),
]  # fmt: skip


def mutate(rng: random.Random, value: bytes, headers: Headers) -> tuple[bytes, Headers]:
    name, new = rng.choice(MUTATIONS)
    if name.startswith("ce_"):
        kept = [(n, v) for n, v in headers if n != name]
        return value, kept if new is None else [*kept, (name, new)]
    data = json.loads(value)
    data[name] = new
    return json.dumps(data).encode(), headers


def slow(value: bytes, headers: Headers) -> Any:
    try:
        return act_of(from_kafka(value, headers))
    except (ValidationError, ValueError):
        return "rejected"


@pytest.mark.parametrize("seed", [11, 12])
def test_the_fast_path_agrees_with_the_contract_on_good_and_bad_records(seed: int) -> None:
    rng = random.Random(seed)
    stream = generate(3000, seed)
    fast_hits = 0
    for _, value, headers in stream.records:
        for candidate in ((value, headers), mutate(rng, value, headers)):
            attrs = {n: v.decode() for n, v in candidate[1]}
            fast = _fast_act(attrs, json.loads(candidate[0]))
            expected = slow(*candidate)
            if fast is not None:
                fast_hits += 1
                assert fast == expected, candidate
            got: Any
            try:
                got = parse_record(*candidate)
            except Unfoldable:
                got = "rejected"
            assert got == expected, candidate
    assert fast_hits >= len(stream.records)  # every good record takes the fast path


def test_unreadable_records_name_their_reason() -> None:
    with pytest.raises(Unfoldable) as malformed:
        parse_record(b"{not json", [("ce_id", b"1")])
    assert malformed.value.reason == "malformed"
    with pytest.raises(Unfoldable) as invalid:
        parse_record(b'{"district": "500101"}', [("ce_type", b"cn.ipr.nope")])
    assert invalid.value.reason == "invalid"
