"""The alert life cycle, as Prometheus runs it, plus a hold-down before resolving.

inactive → pending when the condition starts to hold; pending → firing once it has held for
`for_span`; firing → inactive (resolved) once it has stopped holding for `hold_down`. A pending
alert whose condition stops goes back to inactive without a word. Missing data (condition
None) changes nothing: it neither advances nor resolves an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

State = Literal["inactive", "pending", "firing"]
Transition = Literal["firing", "resolved"]


@dataclass(frozen=True)
class AlertState:
    state: State = "inactive"
    severity: str = "warning"
    active_since: datetime | None = None  # the condition holds since (pending or firing)
    firing_since: datetime | None = None
    clear_since: datetime | None = None  # firing, but the condition no longer holds since
    resolved_at: datetime | None = None
    epoch: int = 0  # how many times it fired: names each firing in notifications
    last_notified_at: datetime | None = None


def step(
    alert: AlertState,
    condition: bool | None,
    severity: str,
    now: datetime,
    for_span: timedelta,
    hold_down: timedelta,
) -> tuple[AlertState, Transition | None]:
    """The alert after one evaluation at `now`, and the transition that warrants a notice."""
    if condition is None:
        return alert, None
    if condition:
        if alert.state == "firing":
            return replace(alert, severity=severity, clear_since=None), None
        since = alert.active_since if alert.state == "pending" else now
        assert since is not None  # noqa: S101 - pending always has its start
        if now - since >= for_span:
            fired = AlertState("firing", severity, since, now, None, None, alert.epoch + 1, now)
            return fired, "firing"
        return AlertState(
            "pending", severity, since, epoch=alert.epoch, resolved_at=alert.resolved_at
        ), None
    if alert.state == "pending":
        return AlertState(epoch=alert.epoch, resolved_at=alert.resolved_at), None
    if alert.state == "firing":
        clear = alert.clear_since or now
        if now - clear >= hold_down:
            return AlertState(severity=alert.severity, resolved_at=now, epoch=alert.epoch), (
                "resolved"
            )
        return replace(alert, clear_since=clear), None
    return alert, None


def repeat_due(alert: AlertState, now: datetime, repeat_interval: timedelta) -> bool:
    """A firing alert is told again once `repeat_interval` passed since its last notice."""
    return (
        alert.state == "firing"
        and alert.last_notified_at is not None
        and now - alert.last_notified_at >= repeat_interval
    )
