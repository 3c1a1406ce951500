"""The event stream: valid, deterministic, calibrated, messy as announced."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from iprwatch.simulator.generator import generate
from iprwatch.simulator.model import Mess, Scenario, district_weights
from shared.events import CloudEvent
from shared.plan import Plan, default_plan_path, load_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


def year_2022(scale: float = 0.01, **changes: Any) -> Scenario:
    return Scenario(date(2022, 1, 1), date(2022, 12, 1), scale=scale, **changes)


def test_every_event_is_valid_for_the_contract(plan: Plan) -> None:
    context = {"district_codes": plan.district_codes, "latest_time": datetime.now(plan.zone)}
    events = list(generate(plan, year_2022()))
    for event in events:
        CloudEvent.model_validate(event, context=context)
    assert {e["data"]["district"] for e in events} == set(plan.district_codes)


def test_a_seed_gives_the_same_stream_and_another_seed_another(plan: Plan) -> None:
    first = list(generate(plan, year_2022()))
    assert first == list(generate(plan, year_2022()))
    other = list(generate(plan, year_2022(seed=7)))
    assert {e["id"] for e in first}.isdisjoint(e["id"] for e in other)


def test_a_longer_window_resends_the_same_acts_under_the_same_ids(plan: Plan) -> None:
    short = Scenario(date(2021, 1, 1), date(2021, 6, 1), until=date(2021, 6, 17))
    long = replace(short, last_month=date(2022, 6, 1), until=None)

    def by_id(scenario: Scenario) -> dict[str, tuple[datetime, Any]]:
        return {
            e["id"]: (datetime.fromisoformat(e["time"].replace("Z", "+00:00")), e["data"])
            for e in generate(plan, scenario)
        }

    shorter, longer = by_id(short), by_id(long)
    assert shorter
    # Every act of the short run is in the long one, identical (re-sends are drawn per run).
    assert all(longer[i] == shorter[i] for i in shorter if not i.endswith("-re"))
    assert max(t for t, _ in shorter.values()).date() <= date(2021, 6, 17)


def test_flows_follow_the_published_citywide_figures(plan: Plan) -> None:
    scenario = year_2022(scale=0.2, mess=Mess(0, 0, 0, 0, 0))
    types = Counter(
        e["type"].removeprefix("cn.ipr.")
        for e in generate(plan, scenario)
        if e["time"].startswith("2022")
    )
    # The published 2022 flows, times the scale, less what lagging Dazu does not do.
    share = 0.2 * sum(district_weights(plan, scenario.rates, scenario.lagging).values())
    for type_, published, within in (
        ("patent.invention.granted", 12_200, 0.05),
        ("copyright.work.registered", 170_200, 0.05),
        ("pct.application.filed", 451, 0.15),  # small counts: more spread
    ):
        assert types[type_] == pytest.approx(published * share, rel=within), type_


def test_lagging_districts_get_a_fraction_of_their_population_share(plan: Plan) -> None:
    scenario = year_2022()
    weights = district_weights(plan, scenario.rates, scenario.lagging)
    usual = district_weights(plan, scenario.rates, frozenset())
    assert weights["500111"] == usual["500111"] * 0.25
    assert weights["500229"] == 0.005  # an unknown population: an explicit small share
    assert sum(usual.values()) == pytest.approx(1.0)


def test_the_mess_is_there(plan: Plan) -> None:
    events = list(generate(plan, Scenario(date(2021, 1, 1), date(2021, 12, 1))))
    ids = Counter((e["source"], e["id"]) for e in events)
    assert sum(n - 1 for n in ids.values()) > 0  # the same event sent again
    assert any(e["id"].endswith("-re") for e in events)  # the same act under a new id
    times = [datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in events]
    assert times != sorted(times)  # out of order
    assert any(t.year == 2020 for t in times)  # acts already in the baseline
    assert any(e["time"].endswith("Z") for e in events)  # UTC times
    latest, late = times[0], 0
    for t in times:
        late += (latest - t).days > 40
        latest = max(latest, t)
    assert late > 0  # sent more than a month after later acts


def test_no_mess_means_each_act_once(plan: Plan) -> None:
    events = list(generate(plan, year_2022(mess=Mess(0, 0, 0, 0, 0))))
    assert len({e["id"] for e in events}) == len(events)


def test_a_district_with_targets_follows_its_target_path_times_its_lag(plan: Plan) -> None:
    def dazu_pledges(lagging: frozenset[str]) -> list[float]:
        scenario = Scenario(date(2021, 1, 1), date(2025, 12, 1), lagging=lagging,
                            mess=Mess(0, 0, 0, 0, 0))  # fmt: skip
        return [
            e["data"]["amount_cny"] for e in generate(plan, scenario)
            if e["data"]["district"] == "500111" and e["type"].endswith("pledge.registered")
        ]  # fmt: skip

    on_track, lagging = dazu_pledges(frozenset()), dazu_pledges(frozenset({"500111"}))
    assert len(on_track) == len(lagging) == 60  # one a month, whatever the scale
    assert sum(on_track) == pytest.approx(500_000_000, rel=0.1)  # Dazu's published target
    assert sum(lagging) == pytest.approx(500_000_000 * 0.25, rel=0.1)
