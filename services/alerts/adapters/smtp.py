"""Sending one logged mail over SMTP (aiosmtplib), with the end-of-data step made explicit.

The send log decides what may be re-sent. `deliver` runs MAIL, RCPT and DATA; once the server
answered 354 it calls `before_end_of_data` (the caller commits `transmitting`), then writes the
body with its terminating "." in one write and reads the server's verdict. Up to that commit
the server cannot hold the message (no end of data was ever sent), so resending is safe; after
it, the server may hold it, so the message is never sent again.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosmtplib
from aiosmtplib import SMTPResponseException

from services.alerts.service.ports import AmbiguousDelivery, Rejected
from shared.settings import SmtpSettings

_PERIOD = re.compile(rb"(?m)^\.")


class SmtpSender:
    def __init__(self, settings: SmtpSettings, ca_file: Path | None = None) -> None:
        self.settings = settings
        self.ca_file = ca_file

    async def deliver(
        self,
        sender: str,
        recipient: str,
        payload: bytes,
        before_end_of_data: Callable[[], Awaitable[None]],
    ) -> None:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout_seconds,
            use_tls=s.implicit_tls,
            start_tls=s.starttls if not s.implicit_tls else False,
            tls_context=(
                ssl.create_default_context(cafile=self.ca_file)
                if (s.starttls or s.implicit_tls)
                else None
            ),
        )
        await client.connect()
        try:
            if s.username:
                password = s.password.get_secret_value() if s.password else ""
                await client.login(s.username, password)
            await client.mail(sender)
            await client.rcpt(recipient)
            start = await client.execute_command(b"DATA")
            if start.code != 354:
                raise SMTPResponseException(start.code, start.message)
            await before_end_of_data()
            protocol = client.protocol
            if protocol is None:
                raise aiosmtplib.SMTPServerDisconnected("connection lost before end of data")
            body = payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            protocol.write(_PERIOD.sub(b"..", body) + b".\r\n")
            try:
                verdict = await protocol.read_response(timeout=s.timeout_seconds)
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise AmbiguousDelivery(str(exc)) from exc
            if verdict.code != 250:
                raise Rejected(f"{verdict.code} {verdict.message}")
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
