"""The end of a plan: judge its outcomes; the first time close its open alerts into one final
evaluation (终期评估) per recipient, later tell each changed outcome once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from services.alerts.domain.evaluation import evaluation_recipients, final_snapshot, outcome_row
from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import FINAL_INDICATOR, Item
from services.alerts.domain.recipients import Recipients
from services.alerts.metrics import AlertMetrics
from services.alerts.service.ports import Clock, Closed, HeldOutcome, Notice, Repositories
from shared.outcomes import Outcome, outcomes, targeted_keys
from shared.plan import Plan
from shared.status import month_points

log = logging.getLogger(__name__)


class Conclusion:
    def __init__(
        self, repositories: Repositories, recipients: Recipients, clock: Clock,
        metrics: AlertMetrics,
    ) -> None:  # fmt: skip
        self.repositories, self.recipients = repositories, recipients
        self.clock, self.metrics = clock, metrics

    async def conclude(self, plan: Plan) -> None:
        """Judge an ended plan's outcomes. The first time: close its open alerts and queue one
        final evaluation per recipient. Later: tell each changed outcome once."""
        now = self.clock.now()
        keys = targeted_keys(plan)
        stored = await self.repositories.series.all_series(plan.id)
        series = {(d, i): month_points(points) for (_, d, i), points in stored.items()}
        found = outcomes(plan, series, keys)
        first = not await self.repositories.conclusions.concluded(plan.id)
        if first and all(o.outcome == "no_data" for o in found if o.target is not None):
            # Nothing of the plan's targets has any data yet (a new installation before its
            # backfill, an area whose registries send nothing here): a final evaluation of
            # "no data" everywhere tells an official nothing; it waits for the first value.
            return
        held = {} if first else await self.repositories.conclusions.outcomes(plan.id)
        changed = [o for o in found if o.key in held and held[o.key].outcome != o.outcome]
        if not first:
            news = [o for o in found if o.key not in held]
            values = [o for o in found if o.key in held and _moved(held[o.key], o)]
            if not changed and not news and not values:
                return
        revisions = {o.key: held[o.key].revision if o.key in held else 1 for o in found}
        for o in changed:
            revisions[o.key] += 1
        closed = await self._closing(plan, found, now) if first else []
        notices: list[Notice] = []
        if first:
            closed_keys = {(d, i) for d, i, _, _, snap in closed if snap.get("closed_by")}
            for recipient, divisions in evaluation_recipients(self.recipients, plan).items():
                rows = [o for o in found if divisions is None or o.division in divisions]
                if not rows:
                    continue
                snap = final_snapshot(plan, rows, closed_keys, now)
                notices.append(("email", recipient, Item(
                    plan.city.code, FINAL_INDICATOR, 1, "final", 0, snap, plan.id)))  # fmt: skip
        for o in changed:
            was = held[o.key].outcome
            snap = outcome_row(plan, o, now, was)
            item = Item(o.division, o.indicator, revisions[o.key], "outcome", 0, snap, plan.id)
            for recipient in self.recipients.for_alert(o.division, plan.city.code):
                notices.append(("email", recipient, item))
        done = await self.repositories.conclusions.conclude(
            plan.id, found, revisions, closed, notices, now, first
        )
        if not done:
            return
        for d, i, *_ in closed:
            self.metrics.snapshot.firing.pop((plan.id, d, i), None)
        log.info(
            "final evaluation" if first else "outcomes changed",
            extra={"plan": plan.id, "outcomes": len(found), "changed": len(changed),
                   "alerts_closed": len(closed), "notices": len(notices)},
        )  # fmt: skip

    async def _closing(self, plan: Plan, found: Sequence[Outcome], now: datetime) -> list[Closed]:
        """The plan's alerts as the plan ends: a firing one resolved (into the final
        evaluation, told by it), a pending one dropped; each one's status is its outcome."""
        by_key = {o.key: o for o in found}
        closed: list[Closed] = []
        for stored in await self.repositories.alerts.alerts(None, None, None, plan=plan.id):
            key, was = (stored.district, stored.indicator), stored.alert
            resolved_at = now if was.state == "firing" else was.resolved_at
            alert = AlertState(severity=was.severity, resolved_at=resolved_at, epoch=was.epoch)
            o = by_key.get(key)
            snapshot = dict(stored.snapshot)
            snapshot["outcome"] = o.outcome if o else "no_target"
            if was.state == "firing":
                snapshot["closed_by"] = "final_evaluation"
            closed.append((key[0], key[1], alert, snapshot["outcome"], snapshot))
        return closed


def _moved(held: HeldOutcome, o: Outcome) -> bool:
    """A held outcome whose value or period changed (its kind unchanged: told no one)."""
    return (held.value, held.period) != (o.value, o.period)
