"""Credentials and transport rules shared by IMAP and SMTP: loopback, safe transport, secrets."""

from __future__ import annotations

import sys

import pytest

from compact_docs.errors import MailError
from mailflows.servers.credentials import is_loopback, read_secret, require_safe_transport, scrub_secrets


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST", True), ("10.0.0.1", False), ("imap.example.org", False),
     ("localhost.example.org", False), ("0.0.0.0", False)],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plain_text_refused_for_a_remote_host() -> None:
    with pytest.raises(MailError, match="loopback"):
        require_safe_transport("imap.example.org", "none")
    with pytest.raises(MailError, match="unknown security"):
        require_safe_transport("127.0.0.1", "ssl")
    require_safe_transport("imap.example.org", "tls")
    require_safe_transport("imap.example.org", "starttls")


def test_missing_password_variable_is_named_not_guessed() -> None:
    with pytest.raises(MailError, match="COMPACT_IMAP_PASSWORD"):
        read_secret(password_env="COMPACT_IMAP_PASSWORD", environ={})


def test_oauth2_token_from_variable_wins_over_password() -> None:
    secret = read_secret(
        password_env="P", oauth2_token_env="T", environ={"P": "pw", "T": " ya29.token \n"}
    )
    assert (secret.kind, secret.value) == ("xoauth2", "ya29.token")
    assert "ya29" not in repr(secret)


def test_oauth2_token_from_command() -> None:
    command = f"{sys.executable} -c \"print('ya29.from-command')\""
    secret = read_secret(password_env=None, oauth2_token_command=command, environ={})
    assert (secret.kind, secret.value) == ("xoauth2", "ya29.from-command")


def test_failing_token_command_does_not_repeat_its_output() -> None:
    command = f"{sys.executable} -c \"print('refresh-token-XYZ'); raise SystemExit(3)\""
    with pytest.raises(MailError, match="status 3") as caught:
        read_secret(password_env=None, oauth2_token_command=command, environ={})
    assert "XYZ" not in str(caught.value)


def test_scrub_secrets_removes_every_occurrence() -> None:
    text = scrub_secrets("LOGIN u hunter2 failed; hunter2 again; token abc", ["hunter2", "", "abc"])
    assert "hunter2" not in text
    assert "abc" not in text
    assert text.count("[secret removed]") == 3
