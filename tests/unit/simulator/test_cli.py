"""`iprwatch simulate`: arguments read into a scenario, readable refusals, a dry run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from iprwatch.cli import build_parser, main
from iprwatch.simulator.cli import scenario_from
from shared.plan import Plan, default_plan_path, load_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def test_arguments_make_the_scenario(plan: Plan) -> None:
    args = build_parser().parse_args(
        ["simulate", "--from", "2022-03", "--to", "2022-05", "--seed", "9", "--scale", "0.5",
         "--lagging", "500111,500112", "--lag-factor", "0.5", "--no-mess"]
    )  # fmt: skip
    scenario = scenario_from(args, plan)
    assert (scenario.first_month, scenario.last_month) == (date(2022, 3, 1), date(2022, 5, 1))
    assert (scenario.seed, scenario.scale, scenario.rates.lag_factor) == (9, 0.5, 0.5)
    assert scenario.lagging == frozenset({"500111", "500112"})
    assert scenario.mess.duplicate_share == 0 and scenario.mess.baseline_acts == 0


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--from", "2022-13"], "not a month YYYY-MM: '2022-13'"),
        (["--from", "2022-05", "--to", "2022-03"], "--to 2022-03 is before --from 2022-05"),
        (["--lagging", "500111,509999"], "--lagging: not districts of the plan: 509999"),
        (["--scale", "0"], "--scale must be in (0, 10], got 0.0"),
    ],
)
def test_bad_arguments_are_refused_readably(
    arguments: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--dry-run", *arguments]) == 2
    assert problem in capsys.readouterr().err


def test_a_dry_run_writes_the_ground_truth_only(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    argv = ["simulate", "--dry-run", "--from", "2022-11", "--to", "2022-12", "--truth", str(truth)]
    assert main(argv) == 0
    document = json.loads(truth.read_text())
    assert document["as_of_month"] == "2022-12"
    assert sorted(document["series"]["500000"]["valid_invention_patents"]) == [
        "2022-11", "2022-12",
    ]  # fmt: skip
    assert document["values"]["500111"]["ip_service_revenue_cny"] > 0  # December's reports
    assert document["tally"]["events"] > 0


def test_the_demo_runs_the_real_city_unless_told_smaller(plan: Plan) -> None:
    demo = build_parser().parse_args(["demo"])
    assert scenario_from(demo, plan).scale == 1.0
    smaller = build_parser().parse_args(["demo", "--scale", "0.1"])
    assert scenario_from(smaller, plan).scale == 0.1
    assert scenario_from(build_parser().parse_args(["simulate"]), plan).scale == 0.01
