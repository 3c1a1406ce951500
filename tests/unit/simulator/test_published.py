"""The demo's 公布值对照: the API's year-end values next to the plan file's published figures."""

from __future__ import annotations

import pytest
from rich.console import Console

from iprwatch.simulator.published import Row, rows, table
from shared.plan import Plan, default_plan_path, load_plan

RATIO, MARKS = "invention_patents_per_10k_population", "valid_registered_trademarks"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def _text(plan: Plan, found: list[Row], scale: float) -> str:
    console = Console(width=250, record=True)
    console.print(table(plan, found, scale))
    return " ".join(console.export_text().split())  # the caption wraps


def test_each_published_year_end_next_to_the_value_seen(plan: Plan) -> None:
    answers: dict[str, dict[str, float | None]] = {
        "2022": {RATIO: 16.2, MARKS: 817040.0},
        "2023": {RATIO: 19.39, MARKS: 876844.0},
        "2024": {RATIO: None, MARKS: 902388.0},
    }
    found = rows(plan, answers)
    assert [(r.indicator, r.year, r.value, r.published) for r in found] == [
        (RATIO, "2022", 16.2, 16.14), (RATIO, "2023", 19.39, 19.98), (RATIO, "2024", None, 22.94),
        (MARKS, "2022", 817040.0, 806600.0), (MARKS, "2023", 876844.0, 866600.0),
        (MARKS, "2024", 902388.0, 895400.0),
    ]  # fmt: skip
    assert found[0].difference == pytest.approx(0.06 / 16.14)
    assert found[2].difference is None
    text = _text(plan, found, 1.0)
    assert "公布值对照 / Published figures: 重庆市 500000, chongqing-14th-fyp" in text
    assert "16.14件/万人 [1]" in text and "+0.37%" in text and "-2.95%" in text
    assert "80.66万件 [1]" in text and "81.7万件" in text and "+1.29%" in text
    assert "89.54万件 [1]" in text and "90.24万件" in text and "+0.78%" in text
    assert "[1] 公布值来源 published: gov.cn 2020-01-01; ichongqing.info" in text
    assert "scaled" not in text


def test_below_scale_one_the_table_says_the_volumes_are_scaled(plan: Plan) -> None:
    text = _text(plan, rows(plan, {}), 0.02)
    assert "scaled to 2% of the real ones" in text
    assert "only meaningful at scale 1" in text
