"""The alerts service that kills itself with SIGKILL at one point of an SMTP delivery.

For the crash tests only (`python -m tests.support.crashing_alerts`, the point in
`IPRWATCH_TEST_CRASH_POINT`): the production adapter carries no failure injection; this
wraps it.
- `before_end_of_data`: the server answered 354 to DATA, the message is not sent yet;
- `after_accepted`: the server accepted the message (250), the send log does not know it yet.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable

from services.alerts.adapters import smtp
from services.alerts.entrypoints.main import run

POINT = os.environ.get("IPRWATCH_TEST_CRASH_POINT", "")
_deliver = smtp.SmtpSender.deliver


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def _crashing_deliver(
    self: smtp.SmtpSender,
    sender: str,
    recipient: str,
    payload: bytes,
    before_end_of_data: Callable[[], Awaitable[None]],
) -> None:
    async def then_die() -> None:
        if POINT == "before_end_of_data":
            _die()
        await before_end_of_data()

    await _deliver(self, sender, recipient, payload, then_die)
    if POINT == "after_accepted":
        _die()


smtp.SmtpSender.deliver = _crashing_deliver  # type: ignore[method-assign]

if __name__ == "__main__":
    run()
