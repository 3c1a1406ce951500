"""A rebuild's replay: every record of the history folded by the live fold's own handler into
a shadow store (which the bootstrap swaps in afterwards)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from services.indicators.service.folding import FoldHandler
from services.indicators.service.ports import History

Progress = Callable[[int, int], None]  # (records read, records to read)


class AlreadyDeadLettered:
    """The dead letters of a replay: the live fold sent them when it first met the records."""

    async def send(self, record: Any, reason: str, detail: str) -> None:  # noqa: ARG002
        return None


async def replay(
    history: History, handler: FoldHandler, progress: Progress | None = None, lanes: int = 1
) -> int:
    """Fold every record of `history`; the number of records read.

    As the live fold: `lanes` loops, each over its own share of the partitions, each parsing
    its next batch while its last one commits.
    """
    total = await history.size()
    read = 0
    if progress:
        progress(0, total)

    async def lane(number: int) -> None:
        nonlocal read
        committing: asyncio.Task[Any] | None = None
        try:
            async for records in history.batches(number, lanes):
                prepared = handler.prepare(records) if records else None
                if committing is not None:
                    await committing
                    committing = None
                if prepared is not None:
                    committing = asyncio.create_task(handler.commit(prepared))
                read += len(records)
                if progress:
                    progress(read, total)
            if committing is not None:
                await committing
        finally:
            if committing is not None and not committing.done():
                committing.cancel()
                await asyncio.gather(committing, return_exceptions=True)

    async with asyncio.TaskGroup() as lanes_running:
        for number in range(lanes):
            lanes_running.create_task(lane(number))
    return read
