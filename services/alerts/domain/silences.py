"""Silences as Alertmanager has them: label matchers, an author, a comment and an expiry."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Matcher:
    name: str  # plan | district | indicator | severity
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        hit = (
            re.fullmatch(self.value, actual) is not None if self.is_regex else actual == self.value
        )
        return hit if self.is_equal else not hit


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def silences(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.active(now) and all(m.matches(labels) for m in self.matchers)


def silenced(silences: Sequence[Silence], labels: Mapping[str, str], now: datetime) -> bool:
    return any(s.silences(labels, now) for s in silences)
