"""The read side's snapshot: every plan's ledger over the monthly totals, refreshed in the
background (the API answers from it, never from a query per request)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date
from decimal import Decimal

from services.indicators.domain.values import Ledgers, Progress
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.service.ports import ChangeSignal, Totals
from shared.plans import PlanSet


class Snapshot:
    def __init__(self, plans: PlanSet, totals: Totals, metrics: IndicatorsMetrics) -> None:
        self.plans = plans
        self.totals = totals
        self.metrics = metrics
        self.ledgers = Ledgers(plans, [])
        self.rows: list[tuple[str, str, date, Decimal]] | None = None

    async def refresh(self) -> None:
        rows = await self.totals.monthly_rows()
        rows.sort()
        if rows == self.rows:
            return  # nothing changed: the ledgers (and the answers cached for them) stay
        # CPU work in a thread: the fold's event loop is never held for long. The API reads
        # the new ledgers at once; the metrics' values follow (they take twice as long).
        ledgers = await asyncio.to_thread(Ledgers, self.plans, rows)
        self.ledgers, self.rows = ledgers, rows
        self.metrics.snapshot.values = await asyncio.to_thread(current_of, ledgers)

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
