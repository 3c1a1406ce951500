"""A rebuild's replay: every record of the history folded by the live fold's own handler into
a shadow store (which the bootstrap swaps in afterwards)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.indicators.service.folding import FoldHandler
from services.indicators.service.ports import History

Progress = Callable[[int, int], None]  # (records read, records to read)


class AlreadyDeadLettered:
    """The dead letters of a replay: the live fold sent them when it first met the records."""

    async def send(self, record: Any, reason: str, detail: str) -> None:  # noqa: ARG002
        return None


async def replay(history: History, handler: FoldHandler, progress: Progress | None = None) -> int:
    """Fold every record of `history`; the number of records read."""
    total = await history.size()
    read = 0
    if progress:
        progress(0, total)
    async for records in history.batches():
        if records:
            await handler.commit(handler.prepare(records))
            read += len(records)
        if progress:
            progress(read, total)
    return read
