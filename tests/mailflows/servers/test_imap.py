"""mailflows.servers.imap against a real Dovecot: login, folders, fetches, moves, IDLE and secrets."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import signal
import ssl
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from servers import (
    CAPABILITIES_WITHOUT_MOVE,
    CAPABILITIES_WITHOUT_MOVE_OR_UIDPLUS,
    PASSWORD,
    DovecotServer,
    MailUser,
    free_port,
)

from compact_docs.errors import Disconnected, MailError
from mailflows.servers.imap import ImapAccount, ImapConnection
from mailflows.servers.imap_copies import find_copies
from mailflows.servers.imap_responses import CopiedMessages

PASSWORD_ENV = "TEST_IMAP_PASSWORD"


def _account(user: MailUser, **changes: Any) -> ImapAccount:
    fields: dict[str, Any] = {"host": user.server.host, "port": user.server.port, "security": "none",
                              "username": user.name, "password_env": PASSWORD_ENV, "timeout": 10.0}
    return ImapAccount(**{**fields, **changes})


def _environ(password: str = PASSWORD) -> dict[str, str]:
    return {PASSWORD_ENV: password}


@pytest.fixture
def connect() -> Iterator[Callable[..., ImapConnection]]:
    """Open ImapConnections to a MailUser; every one is closed at the end of the test."""
    opened: list[ImapConnection] = []

    def open_connection(user: MailUser, **changes: Any) -> ImapConnection:
        connection = ImapConnection(_account(user, **changes), environ=_environ())
        opened.append(connection)
        return connection.connect()

    yield open_connection
    for connection in opened:
        connection.close()


def _message(number: int, body: str = "We object to the decision to end our grant.\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Jo Smith <jo.smith@agewell.example>"
    message["To"] = "disputes@bvsc.example"
    message["Subject"] = f"Dispute {number}: Community Connect grant"
    message["Message-ID"] = f"<dispute-{number}@agewell.example>"
    message.set_content(body)
    return message


def _big_message(megabytes: int = 10) -> EmailMessage:
    message = _message(99, "Please see the attached evidence: we were decommissioned without notice.\n")
    message.add_attachment(
        os.urandom(megabytes * 1024 * 1024),
        maintype="application",
        subtype="octet-stream",
        filename="evidence.bin",
    )
    return message


# -- rules that need no server ------------------------------------------------------------


def test_plain_text_refused_for_a_remote_host() -> None:
    account = ImapAccount(host="imap.example.org", username="d@bvsc.example", security="none")
    with pytest.raises(MailError, match="loopback"):
        ImapConnection(account, environ=_environ())


def test_default_ports_follow_security() -> None:
    assert ImapAccount(host="h", username="u").effective_port == 993
    assert ImapAccount(host="h", username="u", security="starttls").effective_port == 143
    assert ImapAccount(host="h", username="u", port=1143).effective_port == 1143


# -- against Dovecot ----------------------------------------------------------------------


@pytest.mark.servers
def test_login_with_password_from_environment(mail_user: MailUser, connect: Callable[..., ImapConnection]) -> None:
    connection = connect(mail_user)
    assert connection.list_folders() == ["INBOX"]
    assert connection.has_capability("IDLE")
    connection.logout()
    with pytest.raises(MailError, match="not connected"):
        connection.list_folders()


@pytest.mark.servers
def test_password_never_reaches_the_debug_log(
    mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with ImapConnection(_account(mail_user), environ=_environ()) as connection:
        connection.select_folder("INBOX")
    assert "LOGIN" in caplog.text  # the commands are logged...
    assert PASSWORD not in caplog.text  # ...but not the password


@pytest.mark.servers
def test_logout_while_idling_ends_idle_first(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    connection.idle()
    assert connection.idling
    connection.logout()
    assert not connection.idling
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # Dovecot's log process writes a moment later
        ours = [line for line in mail_user.server.log().splitlines() if f"({mail_user.name})" in line]
        if ours:
            break
        time.sleep(0.05)
    assert "Disconnected: Logged out" in ours[-1]


@pytest.mark.servers
def test_wrong_password_fails_without_revealing_it(mail_user: MailUser) -> None:
    wrong = "Wr0ng-p@ss w0rd"
    connection = ImapConnection(_account(mail_user), environ=_environ(wrong))
    with pytest.raises(MailError) as caught:
        connection.connect()
    assert not isinstance(caught.value, Disconnected)
    assert "logging in" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value.__cause__) or caught.value.__cause__ is None


@pytest.mark.servers
def test_xoauth2_refused_without_revealing_the_token(mail_user: MailUser) -> None:
    token = "ya29.a0AfH6SMBsecret-token"
    account = _account(mail_user, password_env=None, oauth2_token_env="TEST_TOKEN")
    connection = ImapConnection(account, environ={"TEST_TOKEN": token})
    with pytest.raises(MailError) as caught:
        connection.connect()
    assert token not in str(caught.value)
    assert "logging in" in str(caught.value)


@pytest.mark.servers
def test_nothing_listening_is_a_disconnection(mail_user: MailUser) -> None:
    connection = ImapConnection(_account(mail_user, port=free_port()), environ=_environ())
    with pytest.raises(Disconnected, match=r"connecting to 127\.0\.0\.1"):
        connection.connect()


@pytest.mark.servers
def test_missing_folders_are_created_with_non_ascii_names(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    wanted = ["Disputes/Stage 1", "Disputes/Étape 2", "Disputes/Needs triage", "INBOX", "inbox"]
    connection = connect(mail_user)
    created = connection.ensure_folders(wanted)
    assert created == ["Disputes/Stage 1", "Disputes/Étape 2", "Disputes/Needs triage"]
    assert connection.ensure_folders(wanted) == []
    assert {"Disputes/Stage 1", "Disputes/Étape 2"} <= set(mail_user.folders())
    with mail_user.connect() as client:
        subscribed = {name for _flags, _delimiter, name in client.list_sub_folders()}
    assert set(created) <= subscribed
    # On the wire and on disk the name is modified UTF-7 (RFC 3501 section 5.1.3).
    assert (mail_user.maildir / ".Disputes.&AMk-tape 2").is_dir()


@pytest.mark.servers
def test_fetch_returns_whole_messages_in_uid_order_and_never_marks_read(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    uids = [mail_user.append(_message(number)) for number in range(7)]
    expected = mail_user.messages()
    connection = connect(mail_user)
    state = connection.select_folder("INBOX")
    assert state.exists == 7
    assert state.uidvalidity == mail_user.uidvalidity()
    assert connection.search_all() == uids
    fetched = list(connection.fetch_messages(list(reversed(uids)), batch_size=3, batch_bytes=1000))
    assert [message.uid for message in fetched] == uids
    assert all(message.raw == expected[message.uid] for message in fetched)
    assert all(message.size == len(message.raw) and not message.truncated for message in fetched)
    assert all(b"\\Seen" not in flags for flags in mail_user.flags().values())


@pytest.mark.servers
def test_fetch_skips_messages_expunged_meanwhile(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    first, second = mail_user.append(_message(1)), mail_user.append(_message(2))
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    with mail_user.connect() as other:
        other.select_folder("INBOX")
        other.delete_messages([first])
        other.expunge()
    assert [message.uid for message in connection.fetch_messages([first, second])] == [second]


@pytest.mark.servers
def test_ten_megabyte_message_is_read_as_header_and_text_start(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    small = mail_user.append(_message(1))
    big = mail_user.append(_big_message(10))
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    tracemalloc.start()
    try:
        fetched = list(connection.fetch_messages([small, big], text_cap=4096))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"fetching allocated {peak} bytes at peak"
    whole, capped = fetched
    assert not whole.truncated
    assert capped.truncated
    assert capped.size > 10 * 1024 * 1024
    assert len(capped.raw) < 8192
    parsed = email.message_from_bytes(capped.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Dispute 99: Community Connect grant"
    assert parsed["Message-ID"] == "<dispute-99@agewell.example>"
    assert parsed.get_content().startswith("Please see the attached evidence")
    assert b"\\Seen" not in mail_user.flags()[big]


@pytest.mark.servers
def test_capped_and_whole_messages_keep_uid_order_in_small_chunks(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    bodies = ["Short objection.\n", "Long objection.\n" * 400, "Another short one.\n"]
    uids = [mail_user.append(_message(number, body)) for number, body in enumerate(bodies)]
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    fetched = list(connection.fetch_messages(uids, size_cap=2000, text_cap=100, batch_bytes=1))
    assert [message.uid for message in fetched] == uids
    assert [message.truncated for message in fetched] == [False, True, False]
    parsed = email.message_from_bytes(fetched[1].raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    # Only whole lines of the first 100 bytes: five lines of 17 bytes with CRLF.
    assert parsed.get_content().splitlines() == ["Long objection."] * 5


@pytest.mark.servers
def test_size_cap_on_a_single_part_base64_message(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    message = EmailMessage()
    message["Subject"] = "Long objection"
    message["From"] = "jo.smith@agewell.example"
    message.set_content("We object.\n" + "Détail de la plainte.\n" * 20000, cte="base64")
    uid = mail_user.append(message)
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    [fetched] = connection.fetch_messages([uid], size_cap=10_000, text_cap=1000)
    assert fetched.truncated
    parsed = email.message_from_bytes(fetched.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_content()
    assert text.startswith("We object.\nDétail de la plainte.")
    assert len(text) < 1000


@pytest.mark.servers
def test_move_with_move_capability(mail_user: MailUser, connect: Callable[..., ImapConnection]) -> None:
    uids = [mail_user.append(_message(number)) for number in range(4)]
    connection = connect(mail_user)
    connection.ensure_folders(["Disputes/Stage 2"])
    connection.select_folder("INBOX")
    assert connection.has_capability("MOVE")
    connection.move(uids[:3], "Disputes/Stage 2")
    connection.move([], "Disputes/Stage 2")
    assert mail_user.uids() == uids[3:]
    assert mail_user.count("Disputes/Stage 2") == 3


@pytest.mark.servers
def test_move_without_move_keeps_other_deleted_messages(
    start_dovecot: Callable[..., DovecotServer], connect: Callable[..., ImapConnection]
) -> None:
    user = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE).new_user()
    ours = [user.append(_message(number)) for number in range(3)]
    theirs = user.append(_message(10))
    user.add_flags([theirs], ["\\Deleted"])  # another client's pending deletion
    connection = connect(user)
    connection.ensure_folders(["Disputes/Étape 2"])
    connection.select_folder("INBOX")
    assert not connection.has_capability("MOVE")
    connection.move(ours, "Disputes/Étape 2")
    assert user.uids() == [theirs]
    assert user.flags()[theirs] == {b"\\Deleted"}
    assert user.count("Disputes/Étape 2") == 3
    assert all(b"\\Deleted" not in flags for flags in user.flags("Disputes/Étape 2").values())


@pytest.mark.servers
def test_copies_are_reported_then_found_again_by_message_id_size_and_date(
    start_dovecot: Callable[..., DovecotServer], connect: Callable[..., ImapConnection]
) -> None:
    user = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE).new_user()
    ours = [user.append(_message(number)) for number in range(3)]
    reused = user.append(_message(1, "Another message that reuses dispute 1's Message-ID.\n"))
    odd = [_message(4), _message(5)]
    odd[0].replace_header("Message-ID", "<réclamation-4@agewell.example>")
    del odd[1]["Message-ID"]
    ours += [user.append(message.as_bytes(policy=email.policy.SMTPUTF8)) for message in odd]
    connection = connect(user)
    connection.ensure_folders(["Disputes/Étape 1"])
    connection.select_folder("INBOX")
    noted: list[CopiedMessages] = []
    connection.move(ours[:2], "Disputes/Étape 1", on_copied=noted.append)
    # Told between the COPY and the expunge: the COPYUID answer, copy by copy.
    [copied] = noted
    assert copied.source == tuple(ours[:2])
    assert copied.uidvalidity == user.uidvalidity("Disputes/Étape 1")
    assert sorted(copied.uids) == ours[:2]
    assert sorted(copied.uids.values()) == user.uids("Disputes/Étape 1")

    # Same Message-ID as a copy there, other content: not a copy.
    left = [*ours[2:], reused]
    assert find_copies(connection, left, "Disputes/Étape 1").uids == {}
    with user.connect() as other:  # copies made by a run that died before hearing the answer
        other.select_folder("INBOX")
        other.copy(ours[2:], "Disputes/Étape 1")
    found = find_copies(connection, left, "Disputes/Étape 1")
    # Found by Message-ID (ASCII or not), or by size without one; each by its own header.
    assert found.source == tuple(ours[2:])
    assert sorted(found.uids.values()) == user.uids("Disputes/Étape 1")[2:]
    copies = user.messages("Disputes/Étape 1")
    originals = user.messages()
    assert all(copies[copy] == originals[uid] for uid, copy in found.uids.items())
    # The inbox is selected again afterwards, read-write: its UIDs can be expunged.
    connection.expunge(ours[2:])
    assert user.uids() == [reused]
    assert user.count("Disputes/Étape 1") == 5


@pytest.mark.servers
def test_move_without_move_or_uidplus_is_refused_before_copying(
    start_dovecot: Callable[..., DovecotServer], connect: Callable[..., ImapConnection]
) -> None:
    user = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE_OR_UIDPLUS).new_user()
    uid = user.append(_message(1))
    connection = connect(user)
    connection.ensure_folders(["Disputes/Stage 1"])
    connection.select_folder("INBOX")
    with pytest.raises(MailError, match="neither MOVE nor UIDPLUS"):
        connection.move([uid], "Disputes/Stage 1")
    assert user.uids() == [uid]
    assert user.count("Disputes/Stage 1") == 0


@pytest.mark.servers
def test_uidvalidity_change_is_seen_after_inbox_is_recreated(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    mail_user.append(_message(1))
    connection = connect(mail_user)
    before = connection.select_folder("INBOX")
    mail_user.recreate_inbox()  # drops our session too
    with pytest.raises(Disconnected):
        connection.noop()
    after = connect(mail_user).select_folder("INBOX")
    assert after.uidvalidity != before.uidvalidity
    assert after.exists == 1


@pytest.mark.servers
def test_kick_during_idle_raises_disconnected_then_reconnect_works(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    connection.idle()
    mail_user.kick()
    with pytest.raises(Disconnected, match="BYE"):
        connection.idle_check(timeout=30)
    connection.connect()
    assert connection.select_folder("INBOX").exists == 0


@pytest.mark.servers
def test_connection_dropped_without_bye_raises_disconnected(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    [line] = mail_user.server.doveadm("who", "-1", mail_user.name).splitlines()[1:]
    pid = int(line.split()[2])
    connection.idle()
    os.kill(pid, signal.SIGKILL)  # the imap process dies: EOF, no BYE
    with pytest.raises(Disconnected, match=r"closed the connection|EOF"):
        for _ in range(20):
            connection.idle_check(timeout=0.5)


@pytest.mark.servers
def test_wait_for_changes_sees_new_mail(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    timer = threading.Timer(0.3, mail_user.append, args=(_message(1),))
    timer.start()
    changes = connection.wait_for_changes(timeout=30, renew_after=540)
    timer.join()
    assert (1, b"EXISTS") in changes
    assert connection.search_all() == mail_user.uids()


@pytest.mark.servers
def test_wait_for_changes_renews_idle_and_times_out_quietly(
    mail_user: MailUser, connect: Callable[..., ImapConnection]
) -> None:
    connection = connect(mail_user)
    connection.select_folder("INBOX")
    starts: list[float] = []
    original_idle = connection.idle

    def counting_idle() -> None:
        starts.append(time.monotonic())
        original_idle()

    connection.idle = counting_idle  # type: ignore[method-assign]
    began = time.monotonic()
    assert connection.wait_for_changes(timeout=2.0, renew_after=0.2) == []
    assert time.monotonic() - began < 30  # it returns (quietly) rather than waiting for mail
    assert len(starts) >= 2  # IDLE was renewed at least once before the timeout
    connection.noop()  # IDLE was ended: the session takes commands again


@pytest.mark.servers
def test_implicit_tls_verifies_the_certificate(start_dovecot: Callable[..., DovecotServer]) -> None:
    server = start_dovecot(tls=True)
    user = server.new_user()
    account = _account(user, security="tls", port=server.tls_port)
    with pytest.raises(MailError, match="certificate could not be verified"):
        ImapConnection(account, environ=_environ()).connect()
    trusted = ssl.create_default_context(cafile=str(server.certificate))
    with ImapConnection(account, environ=_environ(), ssl_context=trusted) as connection:
        assert connection.list_folders() == ["INBOX"]
        assert connection.client.socket().version() is not None


@pytest.mark.servers
def test_starttls_upgrades_before_login(start_dovecot: Callable[..., DovecotServer]) -> None:
    server = start_dovecot(tls=True)
    user = server.new_user()
    account = _account(user, security="starttls", port=server.port)
    trusted = ssl.create_default_context(cafile=str(server.certificate))
    with ImapConnection(account, environ=_environ(), ssl_context=trusted) as connection:
        assert isinstance(connection.client.socket(), ssl.SSLSocket)
        connection.select_folder("INBOX")


@pytest.mark.servers
def test_starttls_refused_when_the_server_does_not_offer_it(mail_user: MailUser) -> None:
    connection = ImapConnection(_account(mail_user, security="starttls"), environ=_environ())
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        connection.connect()


@pytest.mark.servers
def test_connection_factory_can_be_overridden(mail_user: MailUser) -> None:
    made: list[object] = []

    class Recording(ImapConnection):
        def _create_client(self) -> Any:
            client = super()._create_client()
            made.append(client)
            return client

    with Recording(_account(mail_user), environ=_environ()) as connection:
        assert made == [connection.client]
