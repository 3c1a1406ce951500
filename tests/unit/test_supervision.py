"""The shared supervision policy: a failing loop is restarted with backoff, never given up."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from shared.supervision import Backoff, Supervisor


async def test_a_failing_loop_is_restarted_until_it_runs_and_readiness_follows() -> None:
    registry = CollectorRegistry()
    supervisor = Supervisor(registry, Backoff(initial=0.01, maximum=0.02, healthy_after=60))
    stopping = asyncio.Event()
    calls = 0
    running = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ConnectionRefusedError("database away")
        running.set()
        await stopping.wait()

    supervisor.start("fold", flaky, stopping)
    await asyncio.wait_for(running.wait(), 5)
    assert calls == 4
    assert supervisor.checks() == {"loop:fold": True}
    assert registry.get_sample_value("ipr_background_loop_restarts_total", {"loop": "fold"}) == 3
    assert registry.get_sample_value("ipr_background_loop_up", {"loop": "fold"}) == 1
    stopping.set()
    await supervisor.stop(timeout=1)


async def test_a_loop_waiting_to_restart_is_not_ready() -> None:
    registry = CollectorRegistry()
    supervisor = Supervisor(registry, Backoff(initial=30, maximum=30))
    stopping = asyncio.Event()
    failed = asyncio.Event()

    async def broken() -> None:
        failed.set()
        raise RuntimeError("broker away")

    supervisor.start("relay", broken, stopping)
    await asyncio.wait_for(failed.wait(), 5)
    await asyncio.sleep(0.01)
    assert supervisor.checks() == {"loop:relay": False}
    assert registry.get_sample_value("ipr_background_loop_up", {"loop": "relay"}) == 0
    assert supervisor.states["relay"].last_error == "RuntimeError: broker away"
    stopping.set()  # ends the backoff wait at once
    await supervisor.stop(timeout=1)
    assert all(task.done() for task in supervisor.tasks)
