"""The SMTP adapter against real aiosmtpd servers: STARTTLS with auth, implicit TLS, refusals."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from iprwatch.stack.processes import LOOPBACK, free_port
from services.alerts.adapters.smtp import SmtpSender
from shared.settings import SmtpSettings

pytestmark = pytest.mark.integration

MAIL = b"From: a@iprwatch.example\r\nTo: b@dazu.example\r\nSubject: t\r\n\r\n.starts with a dot\r\n"


class Keep:
    def __init__(self) -> None:
        self.got: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        del server, session
        self.got.append((str(envelope.mail_from), list(envelope.rcpt_tos),
                         bytes(envelope.original_content or b"")))  # fmt: skip
        return "250 OK"


def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:  # fmt: skip
    del server, session, envelope, mechanism
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"alerts",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603
        ["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Keep, int]]:
    keep, port = Keep(), free_port()
    controller = Controller(keep, hostname=LOOPBACK, port=port,
                            tls_context=server_context(certificate), require_starttls=True,
                            authenticator=authenticate, auth_require_tls=True)  # fmt: skip
    controller.start()
    yield keep, port
    controller.stop()


async def nothing() -> None:
    return None


async def test_starttls_with_login(
    starttls_server: tuple[Keep, int], certificate: tuple[Path, Path]
) -> None:
    keep, port = starttls_server
    settings = SmtpSettings(host=LOOPBACK, port=port, starttls=True, username="alerts",
                            password=SecretStr("s3cret"))  # fmt: skip
    await SmtpSender(settings, ca_file=certificate[0]).deliver(
        "a@iprwatch.example", "b@dazu.example", MAIL, nothing
    )
    [(sender, recipients, content)] = keep.got
    assert (sender, recipients) == ("a@iprwatch.example", ["b@dazu.example"])
    assert content == MAIL  # dot-stuffing undone by the server: the body arrives intact


async def test_a_wrong_password_or_an_unknown_certificate_sends_nothing(
    starttls_server: tuple[Keep, int], certificate: tuple[Path, Path]
) -> None:
    keep, port = starttls_server
    wrong = SmtpSettings(host=LOOPBACK, port=port, starttls=True, username="alerts",
                         password=SecretStr("nope"), timeout_seconds=3)  # fmt: skip
    with pytest.raises(aiosmtplib.SMTPException):
        await SmtpSender(wrong, ca_file=certificate[0]).deliver("a@x.example", "b@x.example",
                                                                MAIL, nothing)  # fmt: skip
    untrusted = SmtpSettings(host=LOOPBACK, port=port, starttls=True)
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        await SmtpSender(untrusted).deliver("a@x.example", "b@x.example", MAIL, nothing)
    assert keep.got == []


async def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    keep, port = Keep(), free_port()
    controller = Controller(keep, hostname=LOOPBACK, port=port,
                            ssl_context=server_context(certificate))  # fmt: skip
    controller.start()
    try:
        settings = SmtpSettings(host=LOOPBACK, port=port, implicit_tls=True)
        await SmtpSender(settings, ca_file=certificate[0]).deliver(
            "a@iprwatch.example", "b@dazu.example", MAIL, nothing
        )
    finally:
        controller.stop()
    assert [c for _, _, c in keep.got] == [MAIL]
