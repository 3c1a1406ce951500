"""Where the local stack keeps everything: one folder, `.iprwatch/` at the repo root by default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StackHome:
    root: Path

    @classmethod
    def default(cls) -> StackHome:
        return cls(Path(os.environ.get("IPRWATCH_HOME", REPO_ROOT / ".iprwatch")).resolve())

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def mail(self) -> Path:
        return self.root / "mail"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    @property
    def env_file(self) -> Path:
        return self.root / "stack.env"

    @property
    def lock_file(self) -> Path:
        return self.root / "stack.lock"

    def prepare(self) -> None:
        for folder in (self.root, self.kafka, self.postgres, self.mail, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        # PostgreSQL runs as an unprivileged user when we are root: it must reach its folder.
        self.root.chmod(0o755)
        self.postgres.chmod(0o755)
