"""What `stack up` started: one record per part, kept in `.iprwatch/stack.json`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Part:
    name: str
    pid: int
    port: int
    marker: str
    log: str
    stop_signal: int = 15
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class StackState:
    parts: dict[str, Part] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StackState:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls({name: Part(**part) for name, part in raw.get("parts", {}).items()})

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"parts": {n: asdict(p) for n, p in self.parts.items()}}, indent=2)
        )
        tmp.replace(path)
