"""A contract type the fold does not count yet is dead-lettered, never folded, never a crash."""

from __future__ import annotations

import pytest

from services.indicators.domain.acts import NOT_FOLDED, STATISTIC, Unfoldable, parse_record
from shared.events import EXAMPLES, parse_event, to_kafka


def test_a_statistic_report_is_dead_lettered_as_an_unsupported_type() -> None:
    assert STATISTIC in NOT_FOLDED
    _, value, headers = to_kafka(parse_event(EXAMPLES[STATISTIC]))
    with pytest.raises(Unfoldable) as caught:
        parse_record(value, headers)
    assert caught.value.reason == "unsupported_type"
    assert caught.value.detail == "cn.ipr.statistic.reported is not counted by the fold yet"


def test_a_bad_statistic_report_is_dead_lettered_as_invalid() -> None:
    _, value, headers = to_kafka(parse_event(EXAMPLES[STATISTIC]))
    bad = value.replace(b'"2022"', b'"2022-13"')
    with pytest.raises(Unfoldable) as caught:
        parse_record(bad, headers)
    assert caught.value.reason == "invalid"
    assert "period" in caught.value.detail
