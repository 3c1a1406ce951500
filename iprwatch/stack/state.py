"""What `stack up` started: one record per part, kept in `.iprwatch/stack.json`.

A part's record outlives its process: its port is chosen once and reused by every later start
(a service keeps its address, Kafka the listeners its metadata names), and its restarts are
counted. Whoever changes the record (`up`, `down`, the supervisor) holds the stack's lock.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class Part:
    name: str
    pid: int
    port: int
    marker: str
    log: str
    stop_signal: int = 15
    extra: dict[str, str] = field(default_factory=dict)
    restarts: int = 0  # by the supervisor, since the part was first started
    last_restart: str = ""  # ISO time of the last restart by the supervisor
    last_reason: str = ""  # why: "killed by SIGKILL", "exited with 1", ...

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Part:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in raw.items() if key in known})


@dataclass
class StackState:
    parts: dict[str, Part] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StackState:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls({name: Part.from_json(part) for name, part in raw.get("parts", {}).items()})

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"parts": {n: asdict(p) for n, p in self.parts.items()}}, indent=2)
        )
        tmp.replace(path)


@contextmanager
def locked(lock_file: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the stack's lock (an flock on `lock_file`) for the block; yields False when `wait`
    is False and someone else holds it (the block then must not change anything)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
