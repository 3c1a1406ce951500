"""Alerting on the in-memory fakes: an alert fires, is repeated, resolves; an ended plan is
concluded once into one final evaluation per recipient."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from services.alerts.domain.notices import FINAL_INDICATOR
from tests.unit.alerts.scenario import (
    BEHIND,
    CITY,
    DAZU,
    GI,
    NOW,
    OFFICIAL,
    ON_TRACK,
    PLAN,
    POLICY,
    Service,
    change,
    service,
)


def queued(s: Service) -> list[tuple[str, str, str, int, int]]:
    return [(q.channel, q.recipient, q.item.kind, q.item.epoch, q.item.repeat)
            for q in s.memory.items.values()]  # fmt: skip


async def test_an_alert_fires_repeats_and_resolves_with_one_notice_per_recipient() -> None:
    s = service()
    assert await s.alerting.on_change(change(1, BEHIND))
    [firing] = await s.repositories.alerts.alerts("firing", None, None)
    assert (firing.plan, firing.district, firing.indicator) == (PLAN, DAZU, GI)
    assert (firing.alert.epoch, firing.alert.firing_since, firing.status) == (1, NOW, "behind")
    assert queued(s) == [("email", OFFICIAL, "firing", 1, 0), ("email", CITY, "firing", 1, 0)]

    await s.alerting.evaluate_all()  # nothing new within the repeat interval
    assert len(s.memory.items) == 2
    s.clock.at = NOW + timedelta(days=1)
    await s.alerting.evaluate_all()
    assert queued(s)[2:] == [("email", OFFICIAL, "repeat", 1, 1), ("email", CITY, "repeat", 1, 1)]
    assert (await s.repositories.alerts.alert(PLAN, DAZU, GI))[1] == 1

    s.clock.at = NOW + timedelta(days=1, hours=1)
    assert await s.alerting.on_change(change(2, ON_TRACK))
    state, repeats = await s.repositories.alerts.alert(PLAN, DAZU, GI)
    assert (state.state, state.epoch, state.resolved_at) == ("inactive", 1, s.clock.at)
    assert queued(s)[4:] == [
        ("email", CITY, "resolved", 1, 0),
        ("email", OFFICIAL, "resolved", 1, 0),
    ]  # fmt: skip  (the recipients told of the firing, in their order)
    assert [a.alert.state for a in await s.repositories.alerts.alerts("resolved", None, None)] == [
        "inactive"
    ]


async def test_a_stale_change_is_not_stored_and_decides_nothing() -> None:
    s = service()
    assert await s.alerting.on_change(change(2, BEHIND))
    assert not await s.alerting.on_change(change(1, ON_TRACK))
    assert await s.repositories.series.points(PLAN, DAZU, GI) == BEHIND
    assert [a.alert.state for a in await s.repositories.alerts.alerts(None, None, None)] == [
        "firing"
    ]


async def test_an_ended_plan_is_concluded_once_into_final_evaluations() -> None:
    s = service()
    await s.alerting.on_change(change(1, BEHIND))  # firing while the plan runs
    s.clock.fixed_today = date(2026, 1, 15)  # the plan ended on 2025-12-31
    await s.alerting.on_change(change(2, [("2025-06", 5.0), ("2025-12", 7.0)]))
    assert not await s.repositories.conclusions.concluded(PLAN)  # the topic not read to its end
    s.alerting.caught_up.set()
    await s.alerting.evaluate_all()
    assert await s.repositories.conclusions.concluded(PLAN)
    outcomes = await s.repositories.conclusions.outcomes(PLAN)
    gi = outcomes[(DAZU, GI)]
    assert (gi.outcome, gi.value, gi.target, gi.period, gi.revision) == (
        "achieved", 7.0, 7.0, "2025-12", 1,
    )  # fmt: skip
    [closed] = await s.repositories.alerts.alerts(None, None, None)
    assert (closed.alert.state, closed.status, closed.snapshot["closed_by"]) == (
        "inactive", "achieved", "final_evaluation",
    )  # fmt: skip
    finals = [(q.recipient, q.item.district, q.item.indicator)
              for q in s.memory.items.values() if q.item.kind == "final"]  # fmt: skip
    assert finals == [(CITY, "500000", FINAL_INDICATOR), (OFFICIAL, "500000", FINAL_INDICATOR)]
    count = len(s.memory.items)
    await s.alerting.evaluate_all()
    await s.alerting.evaluate_all()
    assert len(s.memory.items) == count  # concluded once: nothing queued again


async def test_an_ended_plan_is_judged_only_once_its_values_have_settled() -> None:
    """A fold catching up sends changes without pause: no final evaluation until they stop
    for `settle` (here 10 minutes), then one, on the last values."""
    s = service(today=date(2026, 1, 15), policy=replace(POLICY, settle=timedelta(minutes=10)))
    s.alerting.caught_up.set()
    for seq, value in enumerate((3.0, 5.0, 7.0), start=1):
        await s.alerting.on_change(change(seq, [("2025-06", 1.0), ("2025-12", value)]))
        s.clock.at += timedelta(minutes=4)  # a change every four minutes: never quiet
        await s.alerting.evaluate_all()
        assert not await s.repositories.conclusions.concluded(PLAN)
    s.clock.at += timedelta(minutes=6)  # ten minutes since the last change
    await s.alerting.evaluate_all()
    assert await s.repositories.conclusions.concluded(PLAN)
    gi = (await s.repositories.conclusions.outcomes(PLAN))[(DAZU, GI)]
    assert (gi.outcome, gi.value) == ("achieved", 7.0)
