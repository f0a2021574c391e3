"""Sending mail over SMTP: verified TLS or STARTTLS, plain text to loopback only, secrets from the environment."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from compact_docs.errors import MailError, SmtpRefused
from mailflows.servers.credentials import Secret, Security, xoauth2_string
from mailflows.servers.session import ServerSession

DEFAULT_SMTP_PORTS: dict[str, int] = {"tls": 465, "starttls": 587, "none": 25}


@dataclass(frozen=True)
class SmtpAccount:
    """Where acknowledgements are sent from: the design's ``[mail.smtp]`` table.

    ``sender`` is the configuration's ``from``. Without ``username`` no login is made (a
    relay that trusts this machine). Secrets are named, never held: ``password_env``, or for
    XOAUTH2 ``oauth2_token_env`` / ``oauth2_token_command`` (see ``mailflows.servers.credentials.read_secret``).
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


class SmtpConnection(ServerSession[SmtpAccount]):
    """One SMTP session (RFC 5321) for sending a few messages, built on smtplib.

    Every smtplib, socket and TLS error is wrapped where it enters: ``Disconnected`` when the
    server cannot be reached or drops the session, ``MailError`` when it refuses (login,
    sender, recipients, content), with secrets removed from the text. ``_create_smtp`` opens
    the connection: the one place to override.
    """

    protocol = "SMTP"
    _smtp: smtplib.SMTP | None = None

    def _create_smtp(self) -> smtplib.SMTP:
        """Open the socket: implicit TLS for ``tls``, plain TCP for ``starttls`` and ``none``."""
        account = self.account
        if account.security == "tls":
            return smtplib.SMTP_SSL(
                account.host, account.effective_port, timeout=account.timeout,
                context=self._tls_context(),
            )
        return smtplib.SMTP(account.host, account.effective_port, timeout=account.timeout)

    def connect(self) -> SmtpConnection:
        """Connect, secure the channel as configured (EHLO, STARTTLS) and log in if configured."""
        self.close()
        account = self.account
        secret = self._read_secret() if account.username else Secret("password")
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

    def end(self) -> None:
        """End the session politely: QUIT."""
        self.quit()

    def close(self) -> None:
        """Drop the socket without a word to the server (after a failure)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    @property
    def connected(self) -> bool:
        """Whether a session is open (as far as this side knows)."""
        return self._smtp is not None

    def _connected(self) -> smtplib.SMTP:
        if self._smtp is None:
            raise MailError(f"not connected to {self.account.host}: call connect() first")
        return self._smtp

    def _wrapped(self, exc: Exception, action: str) -> MailError | None:
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return self._lost(action, f"{exc or type(exc).__name__}")
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._failed(action, f"{exc.smtp_code} {_reply_text(exc.smtp_error)}")
        if isinstance(exc, smtplib.SMTPException):
            return self._failed(action, str(exc))
        if isinstance(exc, OSError):  # after SMTPException, which is an OSError too
            return self._lost(action, f"{exc or type(exc).__name__}")
        return None


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
