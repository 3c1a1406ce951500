"""The read side's snapshot: every plan's ledger over the monthly totals, refreshed in the
background (the API answers from it, never from a query per request)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from decimal import Decimal

from services.indicators.domain.values import Ledgers, MonthKey, Progress, differences
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.ports import ChangeSignal, MonthlyRow, Totals
from shared.plans import PlanSet


class Snapshot:
    """The API reads `ledgers`, rebuilt at every refresh that finds new totals; the metrics'
    values (every key's progress: twice the work of the ledgers) at most every
    `metrics_seconds`, so that refreshing after every fold transaction does not take the fold's
    interpreter for the metrics (Prometheus scrapes every 15 s or so anyway)."""

    def __init__(
        self,
        plans: PlanSet,
        totals: Totals,
        metrics: IndicatorsMetrics,
        metrics_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plans = plans
        self.totals = totals
        self.metrics = metrics
        self.metrics_seconds = metrics_seconds
        self.clock = clock
        self.ledgers = Ledgers(plans, [])
        self.amounts: dict[MonthKey, Decimal] = {}  # what `ledgers` holds, by month
        self.metered: Ledgers | None = None  # the ledgers the metrics' values were taken from
        self.metered_at = -math.inf
        self.lock = asyncio.Lock()  # the refresher and the relay: one refresh at a time

    async def fresh(self) -> Ledgers:
        """The ledgers of the totals as they are now (the relay's: read after its outbox rows,
        so never older than a change they count; one build serves the API and the relay)."""
        await self.refresh()
        return self.ledgers

    async def refresh(self) -> None:
        async with self.lock:
            await self._refresh()

    async def _refresh(self) -> None:
        rows = await self.totals.monthly_rows()
        # CPU work in a thread: the fold's event loop is never held for long
        updated = await asyncio.to_thread(self._updated, rows)
        if updated is not None:
            self.ledgers, self.amounts = updated
        due = self.clock() - self.metered_at >= self.metrics_seconds
        if self.metered is not self.ledgers and due:
            ledgers = self.ledgers
            self.metrics.snapshot.values = await asyncio.to_thread(current_of, ledgers)
            self.metered, self.metered_at = ledgers, self.clock()

    def _updated(self, rows: list[MonthlyRow]) -> tuple[Ledgers, dict[MonthKey, Decimal]] | None:
        """The ledgers with what changed since the last refresh (None: nothing did). Only the
        changed months are added, to new ledgers that share the rest with the current ones:
        at a city's full history a refresh costs the changes, not every plan's whole build."""
        amounts = {
            (district, indicator, month): amount for district, indicator, month, amount in rows
        }
        changes = differences(self.amounts, amounts)
        if not changes:
            return None
        return self.ledgers.updated(changes), amounts

    async def refresh_forever(
        self,
        changes: ChangeSignal,
        every_seconds: float,
        least_seconds: float,
        stopping: asyncio.Event,
    ) -> None:
        """Refresh when the totals changed, at most every `least_seconds` (changes meanwhile
        are read by the next refresh), and at least every `every_seconds`."""
        while not stopping.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), least_seconds)
            await changes.wait(max(0.0, every_seconds - least_seconds))


def current_of(ledgers: Ledgers) -> dict[tuple[str, str, str], Progress]:
    """Every known (plan, division, indicator) now."""
    return {
        (ledger.plan.id, code, indicator): progress
        for ledger in ledgers
        for (code, indicator), progress in ledger.current().items()
    }
