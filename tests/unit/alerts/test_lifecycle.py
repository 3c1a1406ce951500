"""The alert life cycle: pending, firing, hold-down, resolved; missing data changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.alerts.domain.lifecycle import AlertState, repeat_due, step

T0 = datetime(2024, 6, 1, tzinfo=UTC)
FOR = timedelta(days=2)
HOLD = timedelta(days=1)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def run(conditions: list[tuple[float, bool | None]]) -> tuple[AlertState, list[str]]:
    alert, said = AlertState(), []
    for day, condition in conditions:
        alert, transition = step(alert, condition, "critical", at(day), FOR, HOLD)
        if transition:
            said.append(f"{day:g}:{transition}")
    return alert, said


def test_pending_until_the_condition_held_for_the_span_then_firing_once() -> None:
    alert, said = run([(0, True), (1, True), (1.99, True)])
    assert (alert.state, alert.active_since, said) == ("pending", T0, [])
    alert, said = run([(0, True), (1, True), (2, True), (3, True), (10, True)])
    assert (alert.state, alert.firing_since, alert.epoch, said) == (
        "firing",
        at(2),
        1,
        ["2:firing"],
    )


def test_a_pending_alert_whose_condition_stops_goes_back_silently() -> None:
    alert, said = run([(0, True), (1, False), (2, True), (3.5, True)])
    assert (alert.state, alert.active_since, said) == ("pending", at(2), [])


def test_hold_down_before_resolving_and_flapping_inside_it_changes_nothing() -> None:
    alert, said = run([(0, True), (2, True), (3, False), (3.5, True), (3.8, False), (4.5, False)])
    assert (alert.state, alert.clear_since, said) == ("firing", at(3.8), ["2:firing"])
    alert, said = run([(0, True), (2, True), (3, False), (4, False)])
    assert (alert.state, alert.resolved_at, said) == ("inactive", at(4), ["2:firing", "4:resolved"])


def test_missing_data_never_resolves_nor_advances() -> None:
    alert, said = run([(0, True), (2, True), (3, None), (30, None)])
    assert (alert.state, said) == ("firing", ["2:firing"])
    alert, said = run([(0, True), (1, None), (5, None)])
    assert (alert.state, said) == ("pending", [])


def test_each_firing_has_its_own_epoch() -> None:
    alert, said = run([(0, True), (2, True), (3, False), (4, False), (5, True), (7, True)])
    assert (alert.epoch, said) == (2, ["2:firing", "4:resolved", "7:firing"])


def test_zero_spans_fire_and_resolve_at_once() -> None:
    alert, firing = step(AlertState(), True, "warning", T0, timedelta(0), timedelta(0))
    assert (alert.state, firing) == ("firing", "firing")
    alert, resolved = step(alert, False, "warning", at(1), timedelta(0), timedelta(0))
    assert (alert.state, resolved) == ("inactive", "resolved")


def test_severity_follows_the_status_while_firing() -> None:
    alert, _ = step(AlertState(), True, "warning", T0, timedelta(0), HOLD)
    alert, transition = step(alert, True, "critical", at(1), timedelta(0), HOLD)
    assert (alert.severity, transition) == ("critical", None)


def test_repeat_interval() -> None:
    alert, _ = step(AlertState(), True, "critical", T0, timedelta(0), HOLD)
    week = timedelta(days=7)
    assert not repeat_due(alert, at(6.9), week)
    assert repeat_due(alert, at(7), week)
    assert not repeat_due(AlertState(), at(30), week)
