"""Reading Kafka records: the fast path reads exactly what the contract's models read."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import ValidationError

from services.indicators.domain.acts import (
    Unfoldable,
    _fast_act,
    _json,
    act_of,
    parse_record,
)
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
    # what orjson and the standard library read differently (NaN, Infinity, a lone surrogate:
    # orjson refuses; an integer past 64 bits: orjson reads a float)
    ("amount_cny", float("nan")), ("amount_cny", float("inf")), ("reason", "\ud800"),
    ("amount_cny", 2**64 + 1), ("year", 2**64 + 1), ("high_value", 2**64),
    # C1 controls, which the contract refuses in every text
    ("ce_id", "a\x85b".encode()), ("ce_subject", "ZL\x9f".encode()), ("category", "\x80"),
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


@pytest.mark.parametrize(
    "value",
    [b'{"a": 1, "a": 2}', b"-0", b"[1.5e-320, 0.1, 1e308]", b'{"a": "\\u0000\\u00e9"}',
     b'  {"district": "500101"} \n', "{}".encode("utf-16"), b"\xef\xbb\xbf{}", b"1e400", b"NaN",
     b'"\\udc00"', str(2**70).encode(), b"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"],
)  # fmt: skip
def test_the_json_reading_gives_the_standard_librarys_values(value: bytes) -> None:
    got, expected = _json(value), json.loads(value)
    assert type(got) is type(expected) or isinstance(expected, int) and got == expected
    assert repr(got) == repr(expected) or isinstance(expected, int) and got == expected


def test_unreadable_records_name_their_reason() -> None:
    with pytest.raises(Unfoldable) as malformed:
        parse_record(b"{not json", [("ce_id", b"1")])
    assert malformed.value.reason == "malformed"
    with pytest.raises(Unfoldable) as invalid:
        parse_record(b'{"district": "500101"}', [("ce_type", b"cn.ipr.nope")])
    assert invalid.value.reason == "invalid"
