"""The event contract: typed data per type, validation, and the Kafka binary form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENT_TYPES,
    EXAMPLES,
    CloudEvent,
    InventionGranted,
    RevenueReported,
    from_kafka,
    parse_event,
    to_kafka,
)


def raw(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "specversion": "1.0",
        "id": "cnipa-2023-0512-000123",
        "source": "/registries/cnipa/patents",
        "type": "cn.ipr.patent.invention.granted",
        "subject": "ZL202310123456.7",
        "time": "2023-05-12T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": {"district": "500112", "high_value": True},
    }
    event.update(overrides)
    return event


def test_the_contract_has_fifteen_event_types() -> None:
    assert len(EVENT_TYPES) == 15
    assert all(t.startswith("cn.ipr.") for t in EVENT_TYPES)


def test_data_is_typed_by_the_event_type() -> None:
    event = CloudEvent.model_validate(raw())
    assert isinstance(event.data, InventionGranted)
    assert event.data.high_value is True
    assert event.district == "500112"


def test_kafka_binary_mode_round_trips() -> None:
    event = CloudEvent.model_validate(raw())
    key, value, headers = to_kafka(event)
    assert key == b"500112"
    assert dict(headers)["ce_type"] == b"cn.ipr.patent.invention.granted"
    assert dict(headers)["ce_id"] == b"cnipa-2023-0512-000123"
    assert from_kafka(value, headers) == event


def test_revenue_reports_need_no_subject() -> None:
    event = CloudEvent.model_validate(
        raw(
            type="cn.ipr.service.revenue.reported",
            subject=None,
            data={"district": "500103", "year": 2023, "amount_cny": 1250000.0},
        )
    )
    assert isinstance(event.data, RevenueReported)
    assert event.data.amount_cny == 1250000.0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "cn.ipr.patent.utility.granted"}, "type"),
        ({"specversion": "0.3"}, "specversion"),
        ({"subject": None}, "subject is required"),
        ({"time": "1984-12-31T00:00:00+08:00"}, "before 1985"),
        ({"time": "2023-05-12T00:00:00"}, "time"),
        ({"data": {"district": "50011"}}, "district"),  # not six digits
        ({"data": {"district": "500112", "colour": "red"}}, "colour"),
    ],
)
def test_invalid_events_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CloudEvent.model_validate(raw(**overrides))
    assert field in str(caught.value)


def test_district_must_be_in_the_plan_when_the_plan_is_given() -> None:
    with pytest.raises(ValidationError, match="unknown district code '500199'"):
        CloudEvent.model_validate(
            raw(data={"district": "500199"}), context={"district_codes": {"500112"}}
        )


def test_future_acts_are_refused() -> None:
    with pytest.raises(ValidationError, match="in the future"):
        CloudEvent.model_validate(
            raw(time="2031-01-01T00:00:00+08:00"),
            context={"latest_time": datetime(2030, 1, 1, tzinfo=UTC)},
        )


def test_pledges_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        CloudEvent.model_validate(
            raw(
                type="cn.ipr.finance.pledge.registered",
                data={"district": "500112", "amount_cny": 0},
            )
        )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"period": "2022-13"}, "period"), ({"period": "22"}, "period"),
        ({"period": "2022-1"}, "period"), ({"indicator": "GDP share"}, "indicator"),
        ({"indicator": "专利密集型产业"}, "indicator"), ({"value": float("nan")}, "value"),
        ({"value": "high"}, "value"),
    ],
)  # fmt: skip
def test_a_statistic_report_checks_its_period_and_indicator(
    changes: dict[str, object], problem: str
) -> None:
    base = EXAMPLES["cn.ipr.statistic.reported"]
    good = parse_event(base)
    assert good.subject is None
    assert good.data.model_dump() == {
        "district": "500112", "indicator": "patent_intensive_industries_gdp_share",
        "period": "2022", "value": 12.5, "document": "重庆市知识产权局 2022 年统计公报",
    }  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        parse_event({**base, "data": {**base["data"], **changes}})
    assert [e["loc"] for e in caught.value.errors()] == [("data", problem)]
