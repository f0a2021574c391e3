"""A session with a mail server, IMAP or SMTP alike: connect, end politely or drop, never show a secret."""

from __future__ import annotations

import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from compact_docs.errors import Disconnected, MailError
from mailflows.servers.credentials import Secret, Security, read_secret, require_safe_transport, scrub_secrets


class ServerAccount(Protocol):
    """What a session needs of an account: where the server is, how the channel is secured, and
    where the credentials are (names of variables or a command, never the secrets)."""

    @property
    def host(self) -> str: ...

    @property
    def security(self) -> Security: ...

    @property
    def effective_port(self) -> int: ...

    @property
    def username(self) -> str | None: ...

    @property
    def password_env(self) -> str | None: ...

    @property
    def oauth2_token_env(self) -> str | None: ...

    @property
    def oauth2_token_command(self) -> str | None: ...


AccountT = TypeVar("AccountT", bound=ServerAccount)


class ServerSession(ABC, Generic[AccountT]):
    """One session with a mail server for one account.

    ``connect()`` opens it (and may be called again after ``Disconnected``), ``end()`` ends it
    politely (LOGOUT, QUIT), ``close()`` drops the socket without a word (after a failure). As a
    context manager it connects on entry and, on exit, ends politely or, after an error, drops.
    Plain text is refused except to loopback; certificates are always verified; every message
    an error carries has the secrets removed.
    """

    protocol: ClassVar[str]
    """'IMAP' or 'SMTP', at the start of every error message."""

    def __init__(
        self,
        account: AccountT,
        *,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        require_safe_transport(account.host, account.security)
        self.account = account
        self._environ = environ
        self._ssl_context = ssl_context
        self._secret_forms: list[str] = []

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Whether a session is open (as far as this side knows)."""

    @abstractmethod
    def connect(self) -> Self:
        """Connect, secure the channel as configured and log in."""

    @abstractmethod
    def end(self) -> None:
        """End the session politely; a session already lost is just closed."""

    @abstractmethod
    def close(self) -> None:
        """Drop the socket without a word to the server (after a failure)."""

    def __enter__(self) -> Self:
        if not self.connected:
            self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end()
        else:
            self.close()

    def _tls_context(self) -> ssl.SSLContext:
        # The system's trusted CAs, hostname checked: never an unverified context.
        return self._ssl_context or ssl.create_default_context()

    def _read_secret(self) -> Secret:
        """The account's credential; every spelling of it is kept out of error messages from now."""
        account = self.account
        secret = read_secret(
            password_env=account.password_env,
            oauth2_token_env=account.oauth2_token_env,
            oauth2_token_command=account.oauth2_token_command,
            environ=self._environ,
        )
        self._secret_forms = secret.forms(account.username or "")
        return secret

    def _scrub(self, text: str) -> str:
        return scrub_secrets(text, self._secret_forms)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Wrap what the protocol library, sockets and TLS raise while doing ``action``."""
        try:
            yield
        except MailError:
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailError(self._scrub(
                f"{self.protocol} {self.account.host}: the server's certificate could not be verified "
                f"while {action}: {exc.verify_message or exc}")) from exc
        except Exception as exc:
            wrapped = self._wrapped(exc, action)
            if wrapped is None:
                raise
            raise wrapped from exc

    @abstractmethod
    def _wrapped(self, exc: Exception, action: str) -> MailError | None:
        """The MailError (or Disconnected) for what the protocol library raised, or None to let it be."""

    def _lost(self, action: str, detail: str) -> Disconnected:
        """The session dropped, and the error to raise for a connection that failed."""
        self.close()
        return Disconnected(self._scrub(
            f"{self.protocol} {self.account.host}: the connection failed while {action}: {detail}"))

    def _failed(self, action: str, detail: str) -> MailError:
        """The error to raise for a command the server refused."""
        return MailError(self._scrub(f"{self.protocol} {self.account.host}: failed {action}: {detail}"))


def peer_closed(sock: socket.socket) -> bool:
    """Whether the server closed the TCP connection, peeking without consuming any data."""
    flags = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)
    if not getattr(socket, "MSG_DONTWAIT", 0):
        return False
    try:
        # A duplicate of the descriptor: peeking on the TLS object itself is not allowed.
        probe = socket.fromfd(sock.fileno(), sock.family, sock.type)
    except OSError:
        return True
    with probe:
        try:
            return probe.recv(1, flags) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


def exception_text(exc: BaseException) -> str:
    """What a library's exception says, as text (imaplib's bytes unwrapped), else its type's name."""
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text or type(exc).__name__
