"""Commands find the local stack: settings from `.iprwatch/stack.env`, and errors that say which.

`iprwatch stack up` writes the settings it started the services with to `stack.env`. A command
run in another shell (`iprwatch alerts backtest`, `indicators rebuild`, `tokens`, `import`,
`simulate`) takes from that file every `IPRWATCH_*` setting that its environment does not set,
so it reaches the same PostgreSQL and Kafka without `source .iprwatch/stack.env`. An explicit
environment always wins. When a dependency cannot be reached, `unreachable` turns the error
into one line that names the setting to fix and the value in effect
(`shared.unavailable.describe`).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import MutableMapping
from pathlib import Path


def adopt(env_file: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set each `IPRWATCH_*` of `env_file` that `environ` lacks; return the names set."""
    target = os.environ if environ is None else environ
    if not env_file.is_file():
        return []
    adopted: list[str] = []
    for line in env_file.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) != 2 or words[0] != "export" or "=" not in words[1]:
            continue
        name, _, value = words[1].partition("=")
        if name.startswith("IPRWATCH_") and name not in target:
            target[name] = value
            adopted.append(name)
    return adopted
