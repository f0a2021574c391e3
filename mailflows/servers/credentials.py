"""Credentials and transport rules shared by IMAP and SMTP: secrets from the environment, never shown."""

from __future__ import annotations

import base64
import ipaddress
import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from compact_docs.errors import MailError

Security = Literal["tls", "starttls", "none"]

SECURITY_MODES = ("tls", "starttls", "none")
_REDACTED = "[secret removed]"


@dataclass(frozen=True)
class Secret:
    """A credential read from where the configuration points: a password or an XOAUTH2 token."""

    kind: Literal["password", "xoauth2"]
    value: str = ""

    def __repr__(self) -> str:
        return f"Secret(kind={self.kind!r}, value={_REDACTED!r})"

    def forms(self, username: str) -> list[str]:
        """Every spelling of the secret that could leak into a message, for ``scrub_secrets``."""
        if not self.value:
            return []
        forms = [self.value]
        if self.kind == "xoauth2":
            forms.append(base64.b64encode(xoauth2_string(username, self.value).encode()).decode())
        return forms


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1); names are not resolved."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_safe_transport(host: str, security: str) -> None:
    """Refuse plain-text mail connections except to this machine.

    Raises MailError for an unknown security mode, or ``none`` to a host that is not loopback.
    """
    if security not in SECURITY_MODES:
        raise MailError(f"unknown security {security!r}: use 'tls', 'starttls' or 'none'")
    if security == "none" and not is_loopback(host):
        raise MailError(
            f"refusing an unencrypted connection to {host}: security = 'none' is allowed only "
            "for a loopback address (127.0.0.1, ::1, localhost); use 'tls' or 'starttls'"
        )


def read_secret(
    *,
    password_env: str | None,
    oauth2_token_env: str | None = None,
    oauth2_token_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Secret:
    """Read the credential the configuration names, from the environment or a token command.

    An XOAUTH2 token (from ``oauth2_token_env``, else ``oauth2_token_command``) wins over a
    password. The command is split with shlex and run without a shell; its standard output,
    stripped, is the token. Raises MailError naming the variable or command (never a value)
    when nothing can be read.
    """
    env = os.environ if environ is None else environ
    if oauth2_token_env:
        token = env.get(oauth2_token_env, "").strip()
        if not token:
            raise MailError(f"the environment variable {oauth2_token_env} (oauth2_token_env) is not set")
        return Secret("xoauth2", token)
    if oauth2_token_command:
        return Secret("xoauth2", _run_token_command(oauth2_token_command, env, timeout))
    if password_env:
        password = env.get(password_env, "")
        if not password:
            raise MailError(f"the environment variable {password_env} (password_env) is not set")
        return Secret("password", password)
    return Secret("password")


def _run_token_command(command: str, environ: Mapping[str, str], timeout: float) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise MailError(f"oauth2_token_command cannot be split into words: {exc}") from exc
    if not argv:
        raise MailError("oauth2_token_command is empty")
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=dict(environ), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MailError(f"oauth2_token_command {argv[0]!r} could not run: {type(exc).__name__}") from exc
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        # Its output may hold a token or a refresh token: never repeat it.
        raise MailError(
            f"oauth2_token_command {argv[0]!r} exited with status {result.returncode} "
            f"{'and printed nothing' if not token else 'and its output was ignored'}"
        )
    return token


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft document it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced, longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text
