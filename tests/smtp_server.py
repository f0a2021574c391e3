"""A real SMTP server for tests: aiosmtpd in-process on loopback, keeping what it receives."""

from __future__ import annotations

import email
import email.policy
import ssl
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from servers import PASSWORD, free_port, make_certificate

__all__ = ["ReceivedMail", "SmtpServer", "smtp_server", "start_smtp"]


@dataclass
class ReceivedMail:
    """One message the SMTP server accepted: its envelope and its parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None
    smtputf8: bool = False


class _RecordingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        auth = session.auth_data
        self.received.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=[str(rcpt) for rcpt in envelope.rcpt_tos],
                raw=raw,
                message=parsed,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                smtputf8=bool(envelope.smtp_utf8),
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; ``received`` lists what arrived, in order.

    It offers AUTH PLAIN/LOGIN for ``username``/``password``; with STARTTLS or implicit TLS it
    presents the self-signed ``certificate``.
    """

    host: str
    port: int
    handler: _RecordingHandler
    certificate: Path | None = None
    username: str = "sender"
    password: str = PASSWORD

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def refuse(self, replies: dict[str, str]) -> None:
        """Answer RCPT TO for these addresses with these replies, accepting any other (``{}``:
        accept every address again)."""

        async def handle_RCPT(smtp: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address in replies:
                return replies[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        self.handler.handle_RCPT = handle_RCPT  # type: ignore[attr-defined]


@pytest.fixture
def start_smtp(tmp_path: Path) -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers: ``start_smtp("none" | "starttls" | "tls")``; all stop at the end.

    ``smtputf8=True`` offers SMTPUTF8 (RFC 6531), for non-ASCII addresses.
    """
    controllers: list[Controller] = []

    def start(security: str = "none", smtputf8: bool = False) -> SmtpServer:
        handler = _RecordingHandler()
        server = SmtpServer("127.0.0.1", free_port(), handler)
        options: dict[str, Any] = {}
        if security != "none":
            folder = Path(tempfile.mkdtemp(prefix="smtp-", dir=tmp_path))
            server.certificate = folder / "cert.pem"
            make_certificate(server.certificate, folder / "key.pem")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(server.certificate, folder / "key.pem")
            if security == "tls":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)

        def authenticate(
            smtp: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
        ) -> AuthResult:
            good = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == server.username.encode()
                and auth_data.password == server.password.encode()
            )
            return AuthResult(success=good, handled=False, auth_data=auth_data)

        controller = Controller(
            handler,
            hostname=server.host,
            port=server.port,
            authenticator=authenticate,
            auth_require_tls=security == "starttls",
            enable_SMTPUTF8=smtputf8,
            **options,
        )
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server on loopback (aiosmtpd) with AUTH as sender/secret."""
    return start_smtp()
