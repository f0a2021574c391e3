"""The test servers themselves: Dovecot starts, serves, stops cleanly; aiosmtpd receives."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import psutil
import pytest
import servers
from imapclient import IMAPClient
from servers import CAPABILITIES_WITHOUT_MOVE, DovecotServer, MailUser, require_dovecot
from smtp_server import SmtpServer

pytestmark = pytest.mark.servers


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "jo.smith@agewell.example"
    message["To"] = "disputes@bvsc.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@agewell.example>"
    message.set_content("We object to the decision.\n")
    return message


def test_fresh_users_have_empty_separate_mailboxes(dovecot: DovecotServer) -> None:
    first, second = dovecot.new_user(), dovecot.new_user()
    assert first.name != second.name
    first.append(_message("one"))
    assert first.count() == 1
    assert second.count() == 0
    assert second.folders() == ["INBOX"]


def test_append_returns_uid_and_keeps_bytes_and_flags(mail_user: MailUser) -> None:
    uid = mail_user.append(_message("kept"), flags=("\\Flagged",))
    assert mail_user.uids() == [uid]
    assert b"Subject: kept" in mail_user.messages()[uid]
    assert mail_user.flags()[uid] == {b"\\Flagged"}


def test_kick_drops_an_idle_session(mail_user: MailUser) -> None:
    with mail_user.connect() as client:
        client.select_folder("INBOX")
        client.idle()
        assert mail_user.sessions() == 1
        assert "kicked" in mail_user.kick()
        responses = client.idle_check(timeout=5)
        assert any(response[0] == b"BYE" for response in responses)


def test_recreated_inbox_has_new_uidvalidity_and_same_messages(mail_user: MailUser) -> None:
    mail_user.create_folder("Disputes/Stage 1")
    mail_user.append(_message("first"))
    mail_user.append(_message("second"))
    before = mail_user.uidvalidity()
    after = mail_user.recreate_inbox()
    assert after != before
    assert mail_user.count() == 2
    assert "Disputes/Stage 1" in mail_user.folders()


def test_capability_override_hides_move(start_dovecot: Callable[..., DovecotServer]) -> None:
    server = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE)
    user = server.new_user()
    with user.connect() as client:
        assert not client.has_capability("MOVE")
        assert client.has_capability("UIDPLUS")


def _running(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_server_starts_fast_and_stops_without_leftovers(
    start_dovecot: Callable[..., DovecotServer],
) -> None:
    server = start_dovecot()
    user = server.new_user()
    with user.connect() as client:
        client.select_folder("INBOX")
        assert server.process is not None
        family = [psutil.Process(server.process.pid)]
        family += family[0].children(recursive=True)
    assert len(family) > 2  # master, log, auth, login, imap...
    began = time.monotonic()
    server.stop()
    stopped_in = time.monotonic() - began
    assert not [process for process in family if _running(process)]
    # A generous bound: it only catches a stop that hangs, never a slow machine.
    assert stopped_in < 30.0, f"Dovecot took {stopped_in:.2f} s to stop"


def test_wrong_password_is_refused(mail_user: MailUser) -> None:
    client = IMAPClient(mail_user.server.host, port=mail_user.server.port, ssl=False)
    with pytest.raises(IMAPClient.Error):
        client.login(mail_user.name, "wrong")
    client.shutdown()


def test_smtp_server_records_envelope_and_message(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as smtp:
        smtp.login(smtp_server.username, smtp_server.password)
        smtp.send_message(_message("received"), to_addrs=["caseworker@bvsc.example"])
    [received] = smtp_server.received
    assert received.mail_from == "jo.smith@agewell.example"
    assert received.rcpt_tos == ["caseworker@bvsc.example"]
    assert received.message["Subject"] == "received"
    assert received.login == smtp_server.username


def test_missing_dovecot_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(servers, "DOVECOT", tmp_path / "no-dovecot")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="dovecot-imapd"):
        require_dovecot()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="dovecot-imapd"):
        require_dovecot()


def test_a_server_that_cannot_start_says_why(start_dovecot: Callable[..., DovecotServer]) -> None:
    with pytest.raises(RuntimeError, match="Unknown setting: no_such_setting"):
        start_dovecot(no_such_setting="1")
