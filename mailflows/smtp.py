"""Sending mail over SMTP: verified TLS or STARTTLS, plain text to loopback only, secrets from the environment."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

from compact_docs.errors import MailError
from mailflows.credentials import (
    Secret,
    Security,
    read_secret,
    require_safe_transport,
    scrub_secrets,
    xoauth2_string,
)
from mailflows.imap import Disconnected

DEFAULT_SMTP_PORTS: dict[str, int] = {"tls": 465, "starttls": 587, "none": 25}


class SmtpRefused(MailError):
    """Raised when the server refuses a message: its sender, every recipient, or its content.

    ``permanent`` is set for a 5xx reply (RFC 5321 section 4.2.1): sending the same message
    again will be refused again. ``replies`` holds the refused recipients' replies, if any.
    """

    def __init__(self, text: str, *, permanent: bool, replies: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.permanent = permanent
        self.replies = dict(replies or {})


@dataclass(frozen=True)
class SmtpAccount:
    """Where acknowledgements are sent from: the design's ``[mail.smtp]`` table.

    ``sender`` is the configuration's ``from``. Without ``username`` no login is made (a
    relay that trusts this machine). Secrets are named, never held: ``password_env``, or for
    XOAUTH2 ``oauth2_token_env`` / ``oauth2_token_command`` (see ``mailflows.credentials.read_secret``).
    """

    host: str
    sender: str
    security: Security = "starttls"
    port: int | None = None
    username: str | None = None
    password_env: str | None = "COMPACT_SMTP_PASSWORD"
    oauth2_token_env: str | None = None
    oauth2_token_command: str | None = None
    timeout: float = 60.0

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode (465, 587 or 25)."""
        return self.port if self.port is not None else DEFAULT_SMTP_PORTS[self.security]


class SmtpConnection:
    """One SMTP session (RFC 5321) for sending a few messages, built on smtplib.

    Every smtplib, socket and TLS error is wrapped where it enters: ``Disconnected`` when the
    server cannot be reached or drops the session, ``MailError`` when it refuses (login,
    sender, recipients, content), with secrets removed from the text. ``_create_smtp`` opens
    the connection: the one place to override.
    """

    def __init__(
        self,
        account: SmtpAccount,
        *,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        require_safe_transport(account.host, account.security)
        self.account = account
        self._environ = environ
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._secret_forms: list[str] = []

    def _create_smtp(self) -> smtplib.SMTP:
        """Open the socket: implicit TLS for ``tls``, plain TCP for ``starttls`` and ``none``."""
        account = self.account
        if account.security == "tls":
            return smtplib.SMTP_SSL(
                account.host, account.effective_port, timeout=account.timeout,
                context=self._tls_context(),
            )
        return smtplib.SMTP(account.host, account.effective_port, timeout=account.timeout)

    def _tls_context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def connect(self) -> SmtpConnection:
        """Connect, secure the channel as configured (EHLO, STARTTLS) and log in if configured."""
        self.close()
        account = self.account
        secret = Secret("password")
        if account.username:
            secret = read_secret(
                password_env=account.password_env,
                oauth2_token_env=account.oauth2_token_env,
                oauth2_token_command=account.oauth2_token_command,
                environ=self._environ,
            )
            self._secret_forms = secret.forms(account.username)
        with self._errors(f"connecting to {account.host}:{account.effective_port}"):
            self._smtp = self._create_smtp()
        smtp = self._smtp
        try:
            with self._errors("greeting the server"):
                smtp.ehlo()
            if account.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailError(f"SMTP {account.host} does not offer STARTTLS")
                with self._errors("securing the connection with STARTTLS"):
                    smtp.starttls(context=self._tls_context())
                    smtp.ehlo()
            if account.username:
                with self._errors(f"logging in as {account.username}"):
                    self._login(smtp, account.username, secret)
        except BaseException:
            self.close()
            raise
        return self

    @staticmethod
    def _login(smtp: smtplib.SMTP, username: str, secret: Secret) -> None:
        if secret.kind == "xoauth2":
            initial = xoauth2_string(username, secret.value)

            def respond(challenge: bytes | None = None) -> str:
                # After a refusal the server sends an error as a challenge: answer empty.
                return initial if challenge is None else ""

            smtp.auth("XOAUTH2", respond, initial_response_ok=True)
        else:
            smtp.login(username, secret.value)

    def send_message(
        self,
        message: EmailMessage,
        *,
        recipients: Sequence[str] | None = None,
        envelope_sender: str | None = None,
    ) -> dict[str, str]:
        """Send one message; recipients default to its To, Cc and Bcc (Bcc is not transmitted).

        ``envelope_sender`` defaults to the account's sender; an automatic reply may pass ""
        for a null return path (RFC 3834 section 3.3). The message is sent when the server
        accepts at least one recipient: the others, refused, are returned with the server's
        reply (``{"x@example.org": "550 no such user"}``), empty when every one was accepted.
        A non-ASCII address is sent with SMTPUTF8 (RFC 6531) when the server offers it.
        Raises SmtpRefused when the sender, every recipient or the content is refused (or a
        non-ASCII address meets a server without SMTPUTF8: permanent), and Disconnected when the
        session is lost (a 421 reply too).
        """
        smtp = self._connected()
        host = self.account.host
        with self._errors("sending a message"):
            try:
                refused = smtp.send_message(
                    message,
                    from_addr=self.account.sender if envelope_sender is None else envelope_sender,
                    to_addrs=list(recipients) if recipients is not None else None,
                )
            except smtplib.SMTPRecipientsRefused as exc:
                replies = _replies(exc.recipients)
                if any(code == 421 for code, _text in exc.recipients.values()):
                    raise smtplib.SMTPServerDisconnected("; ".join(replies.values())) from exc
                raise SmtpRefused(
                    self._scrub(f"SMTP {host} refused every recipient: {_listed(replies)}"),
                    permanent=all(500 <= code < 600 for code, _text in exc.recipients.values()),
                    replies=replies,
                ) from exc
            except smtplib.SMTPNotSupportedError as exc:  # a non-ASCII address without SMTPUTF8
                wanted = [a for a in (*(recipients or ()), str(message.get("From", ""))) if not a.isascii()]
                raise SmtpRefused(
                    f"SMTP {host} does not offer SMTPUTF8 (RFC 6531), which the non-ASCII address "
                    f"{', '.join(wanted) or 'of this message'} needs: not sent",
                    permanent=True,
                ) from exc
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421:
                    raise smtplib.SMTPServerDisconnected(f"421 {_reply_text(exc.smtp_error)}") from exc
                what = "the sender" if isinstance(exc, smtplib.SMTPSenderRefused) else "the message"
                raise SmtpRefused(
                    self._scrub(f"SMTP {host} refused {what}: {exc.smtp_code} {_reply_text(exc.smtp_error)}"),
                    permanent=500 <= exc.smtp_code < 600,
                ) from exc
        return _replies(refused)

    def quit(self) -> None:
        """End the session politely (QUIT); a session already lost is just closed."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def close(self) -> None:
        """Drop the socket without a word to the server (after a failure)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def __enter__(self) -> SmtpConnection:
        if self._smtp is None:
            self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.quit()
        else:
            self.close()

    def _connected(self) -> smtplib.SMTP:
        if self._smtp is None:
            raise MailError(f"not connected to {self.account.host}: call connect() first")
        return self._smtp

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        host = self.account.host
        try:
            yield
        except MailError:
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailError(self._scrub(
                f"SMTP {host}: the server's certificate could not be verified while {action}: "
                f"{exc.verify_message or exc}"
            )) from exc
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            raise Disconnected(self._scrub(
                f"SMTP {host}: the connection failed while {action}: {exc or type(exc).__name__}"
            )) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(self._scrub(
                f"SMTP {host}: failed {action}: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
            )) from exc
        except smtplib.SMTPException as exc:
            raise MailError(self._scrub(f"SMTP {host}: failed {action}: {exc}")) from exc
        except OSError as exc:  # after SMTPException, which is an OSError too
            self.close()
            raise Disconnected(self._scrub(
                f"SMTP {host}: the connection failed while {action}: {exc or type(exc).__name__}"
            )) from exc

    def _scrub(self, text: str) -> str:
        return scrub_secrets(text, self._secret_forms)


def send_message(
    account: SmtpAccount,
    message: EmailMessage,
    *,
    recipients: Sequence[str] | None = None,
    envelope_sender: str | None = None,
    environ: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, str]:
    """Connect, send one message and QUIT; return the recipients refused while others accepted it."""
    with SmtpConnection(account, environ=environ, ssl_context=ssl_context) as connection:
        return connection.send_message(message, recipients=recipients, envelope_sender=envelope_sender)


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _replies(refused: Mapping[str, tuple[int, bytes | str]]) -> dict[str, str]:
    """smtplib's refused recipients as address -> "550 no such user"."""
    return {address: f"{code} {_reply_text(text)}".strip() for address, (code, text) in refused.items()}


def _listed(replies: Mapping[str, str]) -> str:
    return ", ".join(f"{address} ({reply})" for address, reply in replies.items())
