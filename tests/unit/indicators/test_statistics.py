"""Statistic reports: read by the contract, folded as the value of (division, indicator, period)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.indicators.domain.acts import CONTRACT_ONLY, Unfoldable, parse_record
from shared.event_types import STATISTIC
from shared.events import EXAMPLES, parse_event, to_kafka


def test_a_statistic_report_is_read_by_the_contract_into_an_act() -> None:
    assert STATISTIC in CONTRACT_ONLY
    _, value, headers = to_kafka(parse_event(EXAMPLES[STATISTIC]))
    act = parse_record(value, headers)
    assert (act.district, act.indicator, act.period, act.amount) == (
        "500112",
        "patent_intensive_industries_gdp_share",
        "2022",
        Decimal("12.5"),
    )
    assert act.state_key == "statistic:500112:patent_intensive_industries_gdp_share:2022"


def test_a_bad_statistic_report_is_dead_lettered_as_invalid() -> None:
    _, value, headers = to_kafka(parse_event(EXAMPLES[STATISTIC]))
    bad = value.replace(b'"2022"', b'"2022-13"')
    with pytest.raises(Unfoldable) as caught:
        parse_record(bad, headers)
    assert caught.value.reason == "invalid"
    assert "period" in caught.value.detail
