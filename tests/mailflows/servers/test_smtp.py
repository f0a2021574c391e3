"""mailflows.servers.smtp against a real SMTP server (aiosmtpd): plain, STARTTLS, TLS, secrets."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from servers import free_port
from smtp_server import SmtpServer

from compact_docs.errors import Disconnected, MailError, SmtpRefused
from mailflows.servers.smtp import SmtpAccount, SmtpConnection, send_message

PASSWORD_ENV = "TEST_SMTP_PASSWORD"


def _account(server: SmtpServer, **changes: Any) -> SmtpAccount:
    fields: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "sender": "disputes@bvsc.example",
        "username": server.username,
        "password_env": PASSWORD_ENV,
        "timeout": 10.0,
    }
    fields.update(changes)
    return SmtpAccount(**fields)


def _acknowledgement() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "BVSC Disputes <disputes@bvsc.example>"
    message["To"] = "Jo Smith <jo.smith@agewell.example>"
    message["Cc"] = "commissioning@bexley.example"
    message["Subject"] = "[BXC-2026-0007] We have received your dispute"
    message["In-Reply-To"] = "<dispute-1@agewell.example>"
    message["References"] = "<dispute-1@agewell.example>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("Your dispute is at stage 1. Étape suivante: a meeting.\n")
    return message


def test_message_arrives_with_its_headers(smtp_server: SmtpServer) -> None:
    send_message(_account(smtp_server), _acknowledgement(), environ={PASSWORD_ENV: smtp_server.password})
    [received] = smtp_server.received
    assert received.mail_from == "disputes@bvsc.example"
    assert received.rcpt_tos == ["jo.smith@agewell.example", "commissioning@bexley.example"]
    assert received.login == smtp_server.username
    message = received.message
    assert message["Subject"] == "[BXC-2026-0007] We have received your dispute"
    assert message["In-Reply-To"] == "<dispute-1@agewell.example>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_content().splitlines() == ["Your dispute is at stage 1. Étape suivante: a meeting."]


def test_several_messages_in_one_session_with_null_return_path(smtp_server: SmtpServer) -> None:
    account = _account(smtp_server, username=None)
    with SmtpConnection(account) as connection:
        connection.send_message(_acknowledgement(), recipients=["jo.smith@agewell.example"])
        connection.send_message(_acknowledgement(), envelope_sender="")
    first, second = smtp_server.received
    assert first.rcpt_tos == ["jo.smith@agewell.example"]
    assert first.login is None
    assert second.mail_from == "<>"


def test_wrong_password_fails_without_revealing_it(smtp_server: SmtpServer) -> None:
    wrong = "n0t-the-Passw0rd"
    with pytest.raises(MailError, match="logging in") as caught:
        send_message(_account(smtp_server), _acknowledgement(), environ={PASSWORD_ENV: wrong})
    assert wrong not in str(caught.value)
    assert not smtp_server.received


def test_missing_password_variable(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailError, match=PASSWORD_ENV):
        send_message(_account(smtp_server), _acknowledgement(), environ={})


def test_plain_text_refused_for_a_remote_host() -> None:
    account = SmtpAccount(host="smtp.example.org", sender="d@bvsc.example", security="none")
    with pytest.raises(MailError, match="loopback"):
        SmtpConnection(account)
    assert SmtpAccount(host="h", sender="s").effective_port == 587
    assert SmtpAccount(host="h", sender="s", security="tls").effective_port == 465


def test_nothing_listening_is_a_disconnection() -> None:
    account = SmtpAccount(host="127.0.0.1", port=free_port(), sender="d@bvsc.example", security="none")
    with pytest.raises(Disconnected, match="connecting"):
        send_message(account, _acknowledgement())


def test_starttls_verifies_the_certificate(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp("starttls")
    account = _account(server, security="starttls")
    environ = {PASSWORD_ENV: server.password}
    with pytest.raises(MailError, match="certificate could not be verified"):
        send_message(account, _acknowledgement(), environ=environ)
    assert server.certificate is not None
    trusted = ssl.create_default_context(cafile=str(server.certificate))
    send_message(account, _acknowledgement(), environ=environ, ssl_context=trusted)
    assert len(server.received) == 1


def test_implicit_tls(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp("tls")
    assert server.certificate is not None
    trusted = ssl.create_default_context(cafile=str(server.certificate))
    account = _account(server, security="tls")
    send_message(account, _acknowledgement(), environ={PASSWORD_ENV: server.password},
                 ssl_context=trusted)
    [received] = server.received
    assert received.login == server.username


def test_starttls_refused_when_not_offered(smtp_server: SmtpServer) -> None:
    account = _account(smtp_server, security="starttls")
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_message(account, _acknowledgement(), environ={PASSWORD_ENV: smtp_server.password})


def test_xoauth2_token_never_in_the_error(smtp_server: SmtpServer) -> None:
    token = "ya29.secret-access-token"
    account = _account(smtp_server, password_env=None, oauth2_token_env="TOKEN")
    with pytest.raises(MailError) as caught:
        send_message(account, _acknowledgement(), environ={"TOKEN": token})
    assert token not in str(caught.value)
    assert "logging in" in str(caught.value)


def test_a_refused_recipient_does_not_stop_the_others(smtp_server: SmtpServer) -> None:
    smtp_server.refuse({"commissioning@bexley.example": "550 5.1.1 no such user"})
    account = _account(smtp_server, username=None)
    refused = send_message(account, _acknowledgement())
    assert refused == {"commissioning@bexley.example": "550 5.1.1 no such user"}
    [received] = smtp_server.received
    assert received.rcpt_tos == ["jo.smith@agewell.example"]


def test_every_recipient_refused_says_whether_it_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse({"jo.smith@agewell.example": "550 5.1.1 no such user",
                            "commissioning@bexley.example": "452 4.2.2 mailbox full",
                            "later@bexley.example": "451 4.7.1 greylisted, try again later"})
    with SmtpConnection(_account(smtp_server, username=None)) as connection:
        with pytest.raises(SmtpRefused, match="refused every recipient") as caught:
            connection.send_message(_acknowledgement(), recipients=["jo.smith@agewell.example"])
        assert caught.value.permanent
        assert caught.value.replies == {"jo.smith@agewell.example": "550 5.1.1 no such user"}
        with pytest.raises(SmtpRefused) as caught:  # a 4xx among them: worth trying again
            connection.send_message(_acknowledgement())
        assert not caught.value.permanent
        with pytest.raises(SmtpRefused) as caught:
            connection.send_message(_acknowledgement(), recipients=["later@bexley.example"])
        assert not caught.value.permanent and "greylisted" in str(caught.value)
        # The session is still usable after a refusal.
        assert connection.send_message(_acknowledgement(), recipients=["ok@agewell.example"]) == {}
    assert [m.rcpt_tos for m in smtp_server.received] == [["ok@agewell.example"]]


def test_refused_content_is_a_permanent_refusal(smtp_server: SmtpServer) -> None:
    async def handle_DATA(smtp: Any, session: Any, envelope: Any) -> str:
        return "554 5.6.0 message content rejected"

    smtp_server.handler.handle_DATA = handle_DATA  # type: ignore[method-assign, assignment]
    with pytest.raises(SmtpRefused, match="refused the message: 554") as caught:
        send_message(_account(smtp_server, username=None), _acknowledgement())
    assert caught.value.permanent


def test_a_421_reply_is_a_lost_session_not_a_refusal(smtp_server: SmtpServer) -> None:
    smtp_server.refuse({"jo.smith@agewell.example": "421 4.3.2 shutting down"})
    with pytest.raises(Disconnected, match="421 4\\.3\\.2 shutting down"):
        send_message(_account(smtp_server, username=None), _acknowledgement(),
                     recipients=["jo.smith@agewell.example"])
