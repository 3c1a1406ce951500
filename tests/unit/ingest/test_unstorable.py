"""What PostgreSQL cannot store is refused at the door: a control character (C0 with NUL, DEL,
C1) or a lone UTF-16 surrogate in any string field of any event type, in every mode, is a 422
naming the event and the field, and nothing of the request is published. The answer to a big bad
batch stays small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from services.ingest.domain.validation import ID_CHARS, MAX_LISTED
from services.ingest.settings import IngestSettings
from shared.events import EXAMPLES, TYPED_EVENTS, from_kafka, to_kafka
from tests.unit.ingest.conftest import FakePublisher
from tests.unit.ingest.test_http import BATCH, STRUCTURED, event

# NUL, another C0, DEL, a C1 control (NEL), a lone high and a lone low surrogate
BAD_CHARACTERS = ["\x00", "\x1f", "\x7f", "\x85", "\ud800", "\udfff"]


def string_fields(event_type: str) -> list[str]:
    """Every string field of an event type, as a path (`subject`, `data.reason`), from its
    schema: the envelope's and the data's, required or optional."""
    schema = TYPED_EVENTS[event_type].model_json_schema()
    data_name = schema["properties"]["data"]["$ref"].rsplit("/", 1)[1]

    def is_string(prop: dict[str, Any]) -> bool:
        options = prop.get("anyOf", [prop])
        return any(o.get("type") == "string" or "const" in o for o in options)

    fields = [name for name, prop in schema["properties"].items() if is_string(prop)]
    data = schema["$defs"][data_name]["properties"]
    return fields + [f"data.{name}" for name, prop in data.items() if is_string(prop)]


CASES = [(event_type, field) for event_type in TYPED_EVENTS for field in string_fields(event_type)]


@pytest.fixture
def settings(tmp_path: Path) -> IngestSettings:
    """The service's own body limit (16 MiB): the big bad batch is some 13 MB."""
    return IngestSettings(tokens_file=tmp_path / "tokens.json")


def test_every_string_field_is_covered() -> None:
    # 15 types x (7 envelope + district), from_district, 2 free texts, a statistic's 3 texts
    assert len(CASES) == 126
    assert {f for _, f in CASES} == {
        "specversion", "id", "source", "type", "subject", "time", "datacontenttype",
        "data.district", "data.from_district", "data.reason", "data.category",
        "data.indicator", "data.period", "data.document",
    }  # fmt: skip


def with_bad(event_type: str, field: str, char: str) -> dict[str, Any]:
    """The example of `event_type` with `char` put in the middle of `field`."""
    raw: dict[str, Any] = json.loads(json.dumps(EXAMPLES[event_type]))
    target, name = (raw["data"], field[5:]) if field.startswith("data.") else (raw, field)
    value = str(target.get(name) or "text")
    target[name] = value[:1] + char + value[1:]
    return raw


async def post_raw(
    client: httpx.AsyncClient, body: str, auth: dict[str, str], content_type: str
) -> httpx.Response:
    # ensure_ascii (the default) writes a lone surrogate as the JSON escape \udxxx
    return await client.post(
        "/v1/events", content=body.encode(), headers={**auth, "Content-Type": content_type}
    )


@pytest.mark.parametrize("event_type", TYPED_EVENTS)
async def test_a_control_character_or_lone_surrogate_in_any_field_is_422_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher, event_type: str
) -> None:
    fields = [field for t, field in CASES if t == event_type]
    for field in fields:
        for char in BAD_CHARACTERS:
            bad = with_bad(event_type, field, char)
            structured = await post_raw(client, json.dumps(bad), auth, STRUCTURED)
            batch = [event(0), event(1, event_type), bad, event(3)]
            batched = await post_raw(client, json.dumps(batch), auth, BATCH)
            for response, index in ((structured, 0), (batched, 2)):
                assert response.status_code == 422, (field, char, response.text)
                errors = response.json()["errors"]
                assert [(e["index"], e["field"]) for e in errors] == [(index, field)], errors
                if field != "id":
                    assert errors[0]["id"] == bad["id"]
    assert publisher.published == []


@pytest.mark.parametrize("attribute", ["id", "source", "subject", "type", "time", "specversion"])
async def test_binary_mode_headers_are_checked_alike(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher, attribute: str
) -> None:
    example = EXAMPLES["cn.ipr.patent.invention.lapsed"]
    headers = {f"ce-{a}": quote(str(example[a]), safe="/:+") for a in
               ("specversion", "id", "source", "type", "subject", "time")}  # fmt: skip
    for encoded in ("%00", "%1F", "%7F", "%C2%85"):
        headers[f"ce-{attribute}"] = "a" + encoded + "b"
        response = await client.post(
            "/v1/events",
            content=json.dumps(example["data"]),
            headers={**auth, **headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [attribute]
    assert publisher.published == []


async def test_binary_mode_data_and_undecodable_headers(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher
) -> None:
    example = EXAMPLES["cn.ipr.patent.invention.lapsed"]
    headers = {f"ce-{a}": quote(str(example[a]), safe="/:+") for a in
               ("specversion", "id", "source", "type", "subject", "time")}  # fmt: skip
    headers = {**auth, **headers, "Content-Type": "application/json"}
    data = json.dumps({**example["data"], "reason": "fe\u0000es"})
    response = await client.post("/v1/events", content=data, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "index": 0,
            "id": example["id"],
            "field": "data.reason",
            "problem": "a control character (U+0000) at position 2 is not allowed",
        }
    ]
    # a percent-encoded lone surrogate (ED A0 80) is not UTF-8: nothing is guessed
    headers["ce-subject"] = "a%ED%A0%80b"
    response = await client.post("/v1/events", content=json.dumps(example["data"]),
                                 headers=headers)  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"detail": "header 'ce-subject' is not percent-encoded UTF-8"}
    assert publisher.published == []


def test_the_fold_refuses_them_too_with_the_same_contract() -> None:
    from shared.events import CloudEvent

    good = CloudEvent.model_validate(EXAMPLES["cn.ipr.patent.invention.granted"])
    key, value, headers = to_kafka(good)
    assert from_kafka(value, headers) == good
    poisoned = [(n, b"a\x00b" if n == "ce_subject" else v) for n, v in headers]
    with pytest.raises(ValueError, match=r"control character \(U\+0000\) at position 1"):
        from_kafka(value, poisoned)


async def test_a_big_bad_batch_gets_a_small_answer(
    client: httpx.AsyncClient, auth: dict[str, str], publisher: FakePublisher
) -> None:
    """10,000 events, each with a 1,000-character id and a NUL: the answer lists the first 100
    problems, clipped, with the total, in a few tens of kilobytes."""
    long_id = "x" * 1000 + "\x00"
    bad = [event(n, id=f"{n}-{long_id}", subject="ZL\x00" + "y" * 200) for n in range(10_000)]
    body = json.dumps(bad).encode()
    response = await client.post("/v1/events", content=body,
                                 headers={**auth, "Content-Type": BATCH})  # fmt: skip
    assert response.status_code == 422
    answer = response.json()
    assert answer["total"] == 20_000
    assert answer["detail"] == (
        "10000 of 10000 event(s) are invalid; the first 100 of 20000 problems are listed"
    )
    assert len(answer["errors"]) == MAX_LISTED
    assert answer["errors"][0]["id"] == "0-" + "x" * (ID_CHARS - 3) + "…"
    assert len(response.content) < 40_000, len(response.content)
    assert publisher.published == []
