"""The watcher against a misbehaving server (issue 12, items 13 to 16): Dovecot behind a proxy
that damages one answer, drops the connection at every UID MOVE, hides UIDVALIDITY or sends a
message far longer than it declared."""

from __future__ import annotations

import imaplib
import logging
import re
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backlog import EXPECTED, MAIL
from click.testing import CliRunner
from imap_faults import FaultyImapProxy
from servers import PASSWORD, MailUser
from test_watch import ENVIRON, FOLDERS, PASSWORD_ENV, run_once, write_config

from cli import cli
from compact_docs.errors import MailError
from mailflows.config import MailConfig, require_config
from mailflows.imap import Disconnected, ImapAccount, ImapConnection
from mailflows.parsing import parse_message
from mailflows.watch import ONCE_RECONNECTS, WatchedMessage, watch_mailbox

NAMES = ["01-late-payment.eml", "10-already-raised.eml", "21-auto-submitted-ooo.eml",
         "32-thank-you.eml", "14-not-commissioned-objection.eml"]


class RecordingStop(threading.Event):
    """A stop flag whose waits return at once and are remembered (no test sleeps through a backoff).

    After ``most`` waits it sets itself, so a watcher that would retry for ever still ends.
    """

    def __init__(self, most: int = 12) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.most = most

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if len(self.waits) >= self.most:
            self.set()
        return self.is_set()


@pytest.fixture
def faulty(mail_user: MailUser) -> Iterator[Callable[..., FaultyImapProxy]]:
    """Start a FaultyImapProxy in front of this test's mailbox: ``faulty(drop_on_move="after")``."""
    started: list[FaultyImapProxy] = []

    def start(**faults: Any) -> FaultyImapProxy:
        proxy = FaultyImapProxy((mail_user.server.host, mail_user.server.port), **faults).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def through(proxy: FaultyImapProxy, folder: Path, user: MailUser, **options: Any) -> MailConfig:
    """The test configuration of ``user``'s mailbox, reached through ``proxy``."""
    path = write_config(folder, user, **options)
    text = path.read_text(encoding="utf-8").replace(f"port = {user.server.port}\n", f"port = {proxy.port}\n", 1)
    path.write_text(text, encoding="utf-8")
    return require_config(path)


def append(user: MailUser, names: list[str]) -> list[int]:
    return [user.append((MAIL / "messages" / name).read_bytes()) for name in names]


# -- 13: one malformed FETCH answer ------------------------------------------------------------

def test_a_malformed_fetch_answer_sets_one_message_aside_and_the_rest_go_on(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    names = NAMES
    uids = append(mail_user, names)
    proxy = faulty(malformed_uid=uids[2])
    config = through(proxy, tmp_path, mail_user)

    with caplog.at_level(logging.INFO, logger="mailflows.watch"):
        summary, seen = run_once(config)

    assert mail_user.count("INBOX") == 0 and summary.moved == len(names)
    assert [w.uid for w in seen] == uids
    assert [w.decision.disposition for w in seen] == [
        "needs-triage" if i == 2 else EXPECTED[name] for i, name in enumerate(names)]
    aside = seen[2].decision
    assert aside.message_id.startswith("<unreadable.") and aside.case_ref is None
    assert aside.reasons[0].startswith("could not be read (IMAP 127.0.0.1: the server's answer could not be "
                                       "read while fetching messages (ProtocolError; not shown")
    assert aside.reasons[0].endswith("set aside for a person")
    triage = [parse_message(raw).message_id for raw in mail_user.messages(FOLDERS["needs-triage"]).values()]
    assert parse_message((MAIL / "messages" / names[2]).read_bytes()).message_id in triage
    # Nothing of any message's text reaches the log, whichever message the answer quoted.
    bodies = [(MAIL / "messages" / n).read_text(encoding="utf-8", errors="replace") for n in names]
    for body in bodies:
        for line in body.split("\n\n", 1)[1].splitlines():
            if len(line.strip()) > 30:
                assert line.strip() not in caplog.text
    # And a restart finds nothing left to stumble on.
    summary, seen = run_once(config)
    assert seen == [] and summary.reconnects == 0


# -- 14 and 15: a server that drops the connection at every UID MOVE ---------------------------

def test_once_gives_up_clearly_when_every_uid_move_drops_the_connection(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    append(mail_user, NAMES[:3])
    proxy = faulty(drop_on_move="before")  # the MOVE never reaches the server: no progress at all
    config = through(proxy, tmp_path, mail_user)
    stop = RecordingStop()

    with pytest.raises(MailError) as caught:
        watch_mailbox(config, once=True, environ=ENVIRON, stop=stop)

    assert "giving up: the connection failed 4 times in a row with no message routed or moved" in str(caught.value)
    assert proxy.moves == ONCE_RECONNECTS + 1
    assert stop.waits == [1.0, 2.0, 4.0]  # backing off, though each login succeeded
    assert mail_user.count("INBOX") == 3
    # The messages were recorded: a server that behaves moves them without routing them again.
    summary, _seen = run_once(require_config(write_config(tmp_path, mail_user)))
    assert summary.resumed == 3 and summary.routed == {} and mail_user.count("INBOX") == 0


def test_the_backoff_keeps_growing_across_logins_while_watching(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    append(mail_user, NAMES[:2])
    proxy = faulty(drop_on_move="before")
    config = through(proxy, tmp_path, mail_user, watch={"reconnect_max_seconds": 20})
    stop = RecordingStop(most=7)

    summary = watch_mailbox(config, environ=ENVIRON, stop=stop)  # not --once: it never gives up

    assert stop.waits == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert summary.reconnects == 7 and proxy.sessions == 7


def test_messages_moved_just_before_a_drop_are_still_reported(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    uids = append(mail_user, NAMES)
    proxy = faulty(drop_on_move="after")  # every MOVE is made, and its answer lost
    config = through(proxy, tmp_path, mail_user)
    seen: list[WatchedMessage] = []

    summary = watch_mailbox(config, once=True, on_message=seen.append, environ=ENVIRON, stop=RecordingStop())

    folders = {EXPECTED[name] for name in NAMES}
    assert summary.reconnects == proxy.moves == len(folders)
    assert mail_user.count("INBOX") == 0
    assert sorted(w.uid for w in seen) == uids  # each message reported once
    assert {w.uid: w.decision.disposition for w in seen} == {
        uid: EXPECTED[name] for uid, name in zip(uids, NAMES, strict=True)}
    assert not any(w.resumed for w in seen)
    assert sum(summary.routed.values()) == summary.moved == len(NAMES)
    assert summary.line().startswith(f"Routed {len(NAMES)} (")


# -- 16: SELECT without UIDVALIDITY, a message longer than declared ----------------------------

def test_a_select_without_uidvalidity_is_a_clear_error(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy], runner: CliRunner
) -> None:
    append(mail_user, NAMES[:1])
    config = through(faulty(without_uidvalidity=True), tmp_path, mail_user)
    with pytest.raises(MailError, match=r"selected 'INBOX' without a UIDVALIDITY \(RFC 3501"):
        watch_mailbox(config, once=True, environ=ENVIRON)

    result = runner.invoke(cli, ["mail", "watch", "--once", "--config", str(tmp_path / "compact.toml")],
                           env={PASSWORD_ENV: PASSWORD})
    assert result.exit_code == 2
    assert re.fullmatch(r"Error: IMAP: the server selected 'INBOX' without a UIDVALIDITY .*\n", result.output)
    assert mail_user.count("INBOX") == 1


def test_a_message_far_longer_than_declared_is_set_aside_without_holding_it(
    tmp_path: Path, mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    uids = append(mail_user, NAMES[:3])
    proxy = faulty(inflate_uid=uids[1], inflate_to=40 * 1024 * 1024)  # the server said about 1 KB
    config = through(proxy, tmp_path, mail_user)

    tracemalloc.start()
    try:
        summary, seen = run_once(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 20 * 1024 * 1024, f"{peak:,} bytes at the peak"  # half the 40 MB never held
    assert [w.decision.disposition for w in seen] == [EXPECTED[NAMES[0]], "needs-triage", EXPECTED[NAMES[2]]]
    reason = seen[1].decision.reasons[0]
    assert re.fullmatch(r"could not be read \(the server declared [\d,]+ bytes but sent 41,943,040\): "
                        r"set aside for a person", reason)
    assert mail_user.count("INBOX") == 0 and summary.moved == 3


def test_fetch_keeps_at_most_the_declared_size_plus_a_margin(
    mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    uids = append(mail_user, NAMES[:2])
    proxy = faulty(inflate_uid=uids[0], inflate_to=3 * 1024 * 1024)
    connection = ImapConnection(ImapAccount(host="127.0.0.1", port=proxy.port, security="none",
                                            username=mail_user.name, password_env=PASSWORD_ENV),
                                environ=ENVIRON)
    with connection:
        connection.select_folder("INBOX")
        fetched = list(connection.fetch_messages(uids))
    assert [m.uid for m in fetched] == uids
    assert fetched[0].raw == b"" and fetched[0].unreadable is not None
    assert fetched[1].unreadable is None and fetched[1].raw.startswith(b"Return-Path:")


def test_a_garbled_stream_is_reported_without_quoting_it(
    mail_user: MailUser, faulty: Callable[..., FaultyImapProxy]
) -> None:
    proxy = faulty()
    connection = ImapConnection(ImapAccount(host="127.0.0.1", port=proxy.port, security="none",
                                            username=mail_user.name, password_env=PASSWORD_ENV),
                                environ=ENVIRON)

    def out_of_step() -> None:  # what imaplib says when a line of a message comes as a response
        raise imaplib.IMAP4.abort("unexpected response: b'Dear BVSC, our grant was cut'")

    with connection:
        connection.client._imap._get_response = out_of_step
        with pytest.raises(Disconnected) as caught:
            connection.noop()
    assert "our grant was cut" not in str(caught.value)
    assert "unexpected response (not shown, as it may quote a message)" in str(caught.value)
