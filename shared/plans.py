"""Every plan an office answers to: load them all, check them together, pick the default.

`IPRWATCH_PLANS` names plan files or folders (comma-separated); unset, every `*.yaml` in the
bundled `deploy/plans/` is loaded. A bad file stops start-up naming file, key and problem
(`PlanError`); so does a set whose plans contradict one another (a repeated id, a baseline
derived from a plan that is not loaded or that ends after this one starts).

The default plan (what a read API answers without `plan=`) is the plan in progress today; of
several, the one whose period started last; with none in progress, the one that ended last.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.divisions import level, official, within
from shared.plan import Plan, PlanError, load_plan

PLANS_ENV = "IPRWATCH_PLANS"
BUNDLED_PLANS = Path(__file__).resolve().parent.parent / "deploy" / "plans"


class PlanSet:
    """The loaded plans, in id order; lookups by id."""

    def __init__(self, plans: Iterable[Plan]) -> None:
        self.plans: tuple[Plan, ...] = tuple(sorted(plans, key=lambda plan: plan.id))
        self._by_id = {plan.id: plan for plan in self.plans}

    def __iter__(self) -> Iterator[Plan]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def get(self, plan_id: str) -> Plan:
        try:
            return self._by_id[plan_id]
        except KeyError:
            known = ", ".join(self._by_id) or "none"
            raise KeyError(f"unknown plan {plan_id!r}: the loaded plans are {known}") from None

    def default(self, today: date) -> Plan:
        """The plan in progress on `today` (started last), else the one that ended last."""
        if not self.plans:
            raise LookupError("no plan is loaded")
        running = [plan for plan in self.plans if plan.state(today) == "in_progress"]
        if running:
            return max(running, key=lambda plan: (plan.baseline_date, plan.id))
        ended = [plan for plan in self.plans if plan.state(today) == "ended"]
        if ended:
            return max(ended, key=lambda plan: (plan.target_date, plan.id))
        return min(self.plans, key=lambda plan: (plan.baseline_date, plan.id))

    @property
    def zone(self) -> ZoneInfo:
        """The time zone every loaded plan shares: the fold's months are taken in it."""
        zones = {plan.timezone for plan in self.plans}
        if len(zones) != 1:
            named = ", ".join(f"{plan.id} ({plan.timezone})" for plan in self.plans) or "none"
            raise ValueError(
                f"the plans must share one time zone (months are counted in it): {named}"
            )
        return ZoneInfo(zones.pop())

    def event_codes(self) -> frozenset[str]:
        """The county-level codes a registration event may name (the holder's county): every
        plan's county-level divisions, and each official GB/T 2260 county code (`shared.divisions`)
        inside a plan's division above county level (the national plan's provinces)."""
        codes: set[str] = set()
        wide: set[str] = set()
        for plan in self.plans:
            for code in plan.district_codes:
                (codes if level(code) == "county" else wide).add(code)
        if wide:
            codes.update(
                code
                for code in official()
                if level(code) == "county" and any(within(area, code) for area in wide)
            )
        return frozenset(codes)

    def report_codes(self) -> frozenset[str]:
        """The codes an official statistic may be reported for: every plan's divisions and
        areas, at any level."""
        return frozenset(
            code for plan in self.plans for code in (plan.city.code, *plan.district_codes)
        )

    def reported_indicators(self) -> frozenset[str]:
        """The keys of the `reported` indicators of every plan (what a statistic may report)."""
        return frozenset(
            spec.key for plan in self.plans for spec in plan.indicators if spec.kind == "reported"
        )

    def predecessor(self, plan: Plan) -> Plan | None:
        """The plan whose values on `plan`'s baseline date are its derived baselines."""
        return self._by_id.get(plan.derive_baselines_from) if plan.derive_baselines_from else None


def plan_files(setting: str | None = None) -> list[Path]:
    """The plan files named by `setting` (default `$IPRWATCH_PLANS`), or the bundled ones."""
    raw = setting if setting is not None else os.environ.get(PLANS_ENV, "")
    entries = [Path(part.strip()) for part in raw.split(",") if part.strip()] or [BUNDLED_PLANS]
    files: list[Path] = []
    for entry in entries:
        if entry.is_dir():
            found = sorted(entry.glob("*.yaml"))
            if not found:
                raise PlanError(entry, [("(folder)", "holds no *.yaml plan file")])
            files += found
        else:
            files.append(entry)
    return files


def load_plans(files: Sequence[Path] | None = None) -> PlanSet:
    """Load and check every plan file; raise `PlanError` for the first file with problems."""
    plans: list[Plan] = []
    seen: dict[str, Path] = {}
    paths = list(files) if files is not None else plan_files()
    for path in paths:
        plan = load_plan(path)
        if plan.id in seen:
            raise PlanError(path, [("plan.id", f"{plan.id!r} is also the id of {seen[plan.id]}")])
        seen[plan.id] = path
        plans.append(plan)
    found = PlanSet(plans)
    first = plans[0] if plans else None
    for plan in plans:
        if first is not None and plan.timezone != first.timezone:
            problem = (
                f"{plan.timezone!r} differs from {first.id}'s {first.timezone!r}: the plans of one"
                " deployment share a time zone (the fold counts months in it)"
            )
            raise PlanError(seen[plan.id], [("plan.timezone", problem)])
    for plan in found:
        source = plan.derive_baselines_from
        if source is None:
            continue
        if source not in seen:
            problem = f"{source!r} is not a loaded plan (loaded: {', '.join(found.ids)})"
            raise PlanError(seen[plan.id], [("plan.derive_baselines_from", problem)])
        earlier = found.get(source)
        if earlier.baseline_date >= plan.baseline_date:
            problem = f"{source!r} starts {earlier.baseline_date}: name an earlier plan"
            raise PlanError(seen[plan.id], [("plan.derive_baselines_from", problem)])
    return found
