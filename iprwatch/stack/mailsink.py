"""An SMTP server that keeps every mail it receives as a `.eml` file, so alert mail can be read.

Run as `python -m iprwatch.stack.mailsink --port 1025 --folder .iprwatch/mail`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

log = logging.getLogger("iprwatch.mailsink")


class MailFolder:
    """aiosmtpd handler: each accepted message becomes one file, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count()

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        del server, session
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._counter)}.eml"
        content = envelope.original_content or b""
        header = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(header + content)
        tmp.rename(self.folder / name)
        log.info("stored %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, folder: Path) -> None:
    controller = Controller(MailFolder(folder), hostname=host, port=port)
    controller.start()
    log.info("mail sink listening on %s:%d, storing into %s", host, port, folder)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(args.host, args.port, args.folder))


if __name__ == "__main__":
    main()
