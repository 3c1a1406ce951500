"""The real clock (the service layer's `Clock` port)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.numbers import SHANGHAI
from shared.plan import Plan


class SystemClock:
    """Real time; with `fixed_today`, every plan's "today" stays on that day (tests, demos)."""

    def __init__(self, fixed_today: date | None = None) -> None:
        self.fixed_today = fixed_today

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        if self.fixed_today is not None:
            return self.fixed_today
        return datetime.now(SHANGHAI).date()

    def plan_today(self, plan: Plan) -> date:
        """The date in the plan's time zone (or the fixed day)."""
        if self.fixed_today is not None:
            return self.fixed_today
        return plan.today(self.now())
