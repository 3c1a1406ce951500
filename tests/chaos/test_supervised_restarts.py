"""Chaos: SIGKILL of each service under load, with the stack's supervisor bringing it back.

A whole stack of its own (`iprwatch stack up` in a temporary home, free ports) takes a steady
stream of new acts through ingest, each batch sent again until it is answered 202 (as a registry
system would: resending is safe). Meanwhile ingest, indicators and alerts are killed with
SIGKILL in turn, three times each; every time the supervisor must bring the service back on the
same port, ready (`/readyz` 200), and the seconds that took are measured. At the end every
acknowledged act is recorded once and counted once: the `acts` table and the indicator's value
(`/metrics`) grew by exactly the number of acts acknowledged. A JSON line reports the numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from iprwatch.simulator.client import token_in
from iprwatch.stack.home import StackHome
from iprwatch.stack.stack import SERVICES, Stack, StatusRow
from tests.support.metrics import samples_of

pytestmark = [pytest.mark.slow, pytest.mark.integration]

KILLS = 3
DISTRICT = "500112"
INDICATOR = "valid_invention_patents"
BATCH = 20


def grant(n: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"chaos-supervised-{n}",
        "source": "/registries/cnipa/patents",
        "type": "cn.ipr.patent.invention.granted",
        "subject": f"ZL2024{n:08d}.3",
        "time": "2024-03-15T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": {"district": DISTRICT, "high_value": False},
    }


class Load:
    """Batches of new acts, one after another, each sent until it is answered 202."""

    def __init__(self, url: str, token: str, pause: float = 0.05) -> None:
        self.url = url
        self.token = token
        self.pause = pause
        self.acknowledged = 0
        self.failed_attempts = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=120)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=10) as client:
                while not self.stopping.is_set():
                    first = self.acknowledged
                    batch = [grant(n) for n in range(first, first + BATCH)]
                    while True:  # the same batch again until it is acknowledged
                        try:
                            response = client.post("/v1/events", json=batch)
                            if response.status_code == 202:
                                break
                            assert response.status_code >= 500, response.text
                        except httpx.TransportError:
                            pass
                        self.failed_attempts += 1
                        time.sleep(0.2)
                    self.acknowledged += len(batch)
                    time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = StackHome(tmp_path_factory.mktemp("supervised") / "home")
    running = Stack(home, say=lambda line: print(f"[stack] {line}"), well_known_ports=False)  # noqa: T201
    try:
        running.up()
        yield running
    finally:
        running.clean()


def _row(stack: Stack, name: str) -> StatusRow:
    return {row.name: row for row in stack.status()}[name]


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _kill_and_time(stack: Stack, name: str, timeout: float = 180) -> float:
    before = _row(stack, name)
    assert before.state == "running" and before.pid is not None and before.port is not None
    assert _ready(before.port), f"{name} was not ready before the kill"
    os.kill(before.pid, signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < timeout:
        row = _row(stack, name)
        assert row.port == before.port, f"{name} moved from {before.port} to {row.port}"
        if row.pid not in (None, before.pid) and _ready(before.port):
            assert row.restarts == before.restarts + 1
            return time.monotonic() - killed
        time.sleep(0.1)
    raise AssertionError(f"{name} not back within {timeout}s: {_row(stack, name)}")


async def _acts(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM indicators.acts WHERE id LIKE 'chaos-%'")
        )
    finally:
        await conn.close()


def _value(stack: Stack) -> float:
    port = _row(stack, "indicators").port
    samples = asyncio.run(samples_of(f"http://127.0.0.1:{port}/metrics", "ipr_indicator_value"))
    return samples.get((DISTRICT, INDICATOR), 0.0)


def test_each_service_killed_comes_back_on_its_port_and_no_event_is_lost(stack: Stack) -> None:
    token = token_in(stack.home.root / "simulator.token")
    assert token is not None
    ports = {name: _row(stack, name).port for name in SERVICES}
    dsn = stack.endpoints().postgres_dsn
    baseline = _value(stack)
    recovery: dict[str, list[float]] = {name: [] for name in SERVICES}
    with Load(f"http://127.0.0.1:{ports['ingest']}", token) as load:
        time.sleep(3)
        for _ in range(KILLS):
            for name in SERVICES:
                recovery[name].append(round(_kill_and_time(stack, name), 2))
                time.sleep(3)  # some load on the restarted service before the next kill
        time.sleep(2)
    assert load.error is None, repr(load.error)
    acknowledged = load.acknowledged
    assert acknowledged > 0

    deadline = time.monotonic() + 300
    while (acts := asyncio.run(_acts(dsn))) < acknowledged and time.monotonic() < deadline:
        time.sleep(0.5)
    value = baseline
    while (value := _value(stack)) < baseline + acknowledged and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # anything counted twice would show by now
    acts, value = asyncio.run(_acts(dsn)), _value(stack)

    rows = {row.name: row for row in stack.status()}
    print(  # noqa: T201 - the run's numbers, one JSON line
        json.dumps(
            {
                "test": "supervised_restarts",
                "recovery_seconds": recovery,
                "events_acknowledged": acknowledged,
                "acts_recorded": acts,
                "indicator_delta": value - baseline,
                "failed_attempts": load.failed_attempts,
                "restarts": {name: rows[name].restarts for name in SERVICES},
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    assert {name: rows[name].port for name in SERVICES} == ports
    assert {name: rows[name].restarts for name in SERVICES} == dict.fromkeys(SERVICES, KILLS)
    assert all(len(times) == KILLS for times in recovery.values())
    assert acts == acknowledged
    assert value - baseline == acknowledged
    if "prometheus" in rows and rows["prometheus"].state == "running":
        config = (stack.home.root / "prometheus" / "prometheus.yml").read_text()
        for port in ports.values():
            assert f"127.0.0.1:{port}" in config
