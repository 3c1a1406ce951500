"""Notices: what one mail (or webhook call) says, its deterministic Message-ID and threading.

A notice item is one alert's transition told to one recipient: (plan, district, indicator,
epoch, kind, repeat). The end of a plan adds two kinds: `final`, the final evaluation (终期评估)
of a plan told to one recipient (district = the plan's area, indicator `final_evaluation`), and
`outcome`, a later change of one outcome (epoch = the outcome's revision). The items of one
mail are fixed when its send-log row is written, so its Message-ID (a hash of the recipient
and the item keys) is the same after any restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["firing", "repeat", "resolved", "final", "outcome"]
EVALUATION_KINDS: frozenset[str] = frozenset({"final", "outcome"})
FINAL_INDICATOR = "final_evaluation"
DOMAIN = "alerts.iprwatch"


@dataclass(frozen=True)
class Item:
    district: str
    indicator: str
    epoch: int
    kind: Kind
    repeat: int
    snapshot: dict[str, Any]  # the assessment when the notice was decided (see handlers)
    plan: str  # the plan's id: alerts, threads and Message-IDs are per plan

    @property
    def key(self) -> str:
        return (
            f"{self.plan}/{self.district}/{self.indicator}/{self.epoch}/{self.kind}/{self.repeat}"
        )

    @property
    def evaluation(self) -> bool:
        """A final evaluation or an outcome change: mailed on its own, not in an alert digest."""
        return self.kind in EVALUATION_KINDS

    @property
    def labels(self) -> dict[str, str]:
        return {
            "plan": self.plan,
            "district": self.district,
            "indicator": self.indicator,
            "severity": str(self.snapshot.get("severity", "warning")),
        }


def message_id(recipient: str, items: Sequence[Item]) -> str:
    digest = hashlib.sha256(
        "\n".join([recipient.lower(), *sorted(i.key for i in items)]).encode()
    ).hexdigest()
    return f"<{digest[:40]}@{DOMAIN}>"


def thread_id(plan: str, district: str, indicator: str) -> str:
    return f"<thread.{plan}.{district}.{indicator}@{DOMAIN}>"
