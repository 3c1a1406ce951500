"""What a registry system's token lets it write: which `source` values and which event types."""

from __future__ import annotations

from dataclasses import dataclass

WILDCARD = "*"


def matches(pattern: str, value: str) -> bool:
    """`*` matches anything; `/registries/cnipa/*` matches every source under that prefix."""
    if pattern == WILDCARD:
        return True
    if pattern.endswith(WILDCARD):
        return value.startswith(pattern[:-1])
    return value == pattern


@dataclass(frozen=True)
class TokenGrant:
    """The scope of one token: exact strings or prefix patterns ending in `*`."""

    name: str
    sources: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def allows_everything(self) -> bool:
        return WILDCARD in self.sources and WILDCARD in self.types

    def allows_source(self, source: str) -> bool:
        return any(matches(pattern, source) for pattern in self.sources)

    def allows_type(self, event_type: str) -> bool:
        return any(matches(pattern, event_type) for pattern in self.types)
