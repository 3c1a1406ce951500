"""An ASGI app served by uvicorn on loopback for the length of a test, in a thread of its own
(its own event loop: the test may block), e.g. the indicators API a bulletin reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from iprwatch.stack.processes import LOOPBACK, free_port


@contextmanager
def serving_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """`app` under uvicorn (lifespan on) until the block ends; its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
