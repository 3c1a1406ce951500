"""An in-memory fold with the same dedup rules as the store, to test the domain without I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from services.indicators.domain.acts import Act
from services.indicators.handlers import FoldHandler


class MemoryFold:
    def __init__(self, handler: FoldHandler) -> None:
        self.handler = handler
        self.ids: set[tuple[str, str]] = set()
        self.natural: set[tuple[str, str]] = set()
        self.states: dict[str, list[Act]] = defaultdict(list)
        self.totals: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
        self.duplicates = 0

    def apply(self, batch: Sequence[Act]) -> None:
        new: list[Act] = []
        for act in batch:
            nkey = (act.type, act.subject) if act.subject is not None else None
            if (act.source, act.id) in self.ids or (nkey is not None and nkey in self.natural):
                self.duplicates += 1
                continue
            self.ids.add((act.source, act.id))
            if nkey is not None:
                self.natural.add(nkey)
            new.append(act)
        keys = {a.state_key for a in new if a.state_key is not None}
        states = {key: list(self.states[key]) for key in keys}
        deltas, _ = self.handler.deltas(states, new)
        for act in new:
            if act.state_key is not None:
                self.states[act.state_key].append(act)
        for key, amount in deltas.items():
            self.totals[key] += Decimal(amount)

    def nonzero(self) -> dict[tuple[str, str, date], Decimal]:
        return {k: v for k, v in self.totals.items() if v != 0}
