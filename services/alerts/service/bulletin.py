"""The monthly bulletin job: on a month's first working day, make each due bulletin once and
put its mail to every area recipient in the send log (the dispatch loop delivers it).

Only the leader runs it (bootstrap starts it under the leadership lease). Each round asks,
per plan, in the plan's time zone: is today the first working day of its month
(`domain.working_days`)? does the plan have a bulletin of last month (`domain.bulletin_mail`)?
is it made already (`ReportStore.made`)? If not, the `BulletinMaker` reads the indicators API
and lays the bulletin out; the store keeps it and logs one message per recipient in one
transaction, each under a Message-ID of (plan, month, recipient): made once, mailed once,
whatever restarts or replicas. An indicators API that does not answer is logged and tried
again next round (every `every` seconds, so later that day); the loop itself never fails for
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date

from services.alerts.domain.bulletin_mail import (
    area_recipients,
    messages,
    report_month,
    reported,
)
from services.alerts.domain.recipients import Recipients
from services.alerts.domain.working_days import first_working_day, holidays_known
from services.alerts.service.ports import BulletinMaker, Clock, MakeFailed, ReportStore
from shared.plan import Plan
from shared.plans import PlanSet

log = logging.getLogger(__name__)


class BulletinJob:
    def __init__(
        self,
        plans: PlanSet,
        recipients: Recipients,
        maker: BulletinMaker,
        store: ReportStore,
        clock: Clock,
        sender: str,
        holidays: bool = True,
    ) -> None:
        self.plans, self.recipients, self.maker, self.store = plans, recipients, maker, store
        self.clock, self.sender, self.holidays = clock, sender, holidays
        self._told_unknown: set[int] = set()

    def _first_working_day(self, today: date) -> date:
        if (
            self.holidays
            and not holidays_known(today.year)
            and today.year not in self._told_unknown
        ):
            self._told_unknown.add(today.year)
            log.warning(
                "no holiday schedule for this year: working days are Monday to Friday",
                extra={"year": today.year, "library": "chinesecalendar"},
            )
        return first_working_day(today.year, today.month, self.holidays).day

    def due(self) -> list[tuple[Plan, str, date]]:
        """(plan, month, today) of every bulletin due today."""
        found = []
        for plan in self.plans:
            today = self.clock.plan_today(plan)
            month = report_month(today)
            if today == self._first_working_day(today) and reported(plan, month):
                found.append((plan, month, today))
        return found

    async def run_once(self) -> int:
        """Make and log the bulletins due now; the number made. Raises `MakeFailed` after
        trying every due plan when one could not be made."""
        made, failed = 0, []
        for plan, month, today in self.due():
            if await self.store.made(plan.id, month):
                continue
            to = area_recipients(self.recipients, plan)
            try:
                report = await self.maker.make(plan.id, month, today)
            except MakeFailed as exc:
                failed.append(f"{plan.id} {month}: {exc}")
                continue
            now = self.clock.now()
            mails = messages(report, to, self.sender, now, plan.timezone)
            if await self.store.save(report, mails, now):
                made += 1
                log.info(
                    "monthly bulletin made and its mail logged",
                    extra={"plan": plan.id, "month": month, "pages": report.pages,
                           "bytes": len(report.pdf), "recipients": len(to)},
                )  # fmt: skip
        if failed:
            raise MakeFailed("; ".join(failed))
        return made

    async def run_forever(self, every: float, stopping: asyncio.Event) -> None:
        """A round every `every` seconds; a bulletin that could not be made is tried again
        next round."""
        while not stopping.is_set():
            try:
                await self.run_once()
            except MakeFailed as exc:
                log.warning(
                    "monthly bulletin not made yet: trying again later",
                    extra={"error": str(exc)[:500], "retry_in_seconds": every},
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)
