"""The IMAP watcher against a real Dovecot: backlogs, restarts, IDLE, odd servers and odd mail."""

from __future__ import annotations

import logging
import sqlite3
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backlog import EXPECTED, corpus, large_dispute, realistic_backlog
from imapclient import IMAPClient
from servers import CAPABILITIES_WITHOUT_MOVE, DovecotServer, MailUser
from testdata import MAIL
from watching import (
    ENVIRON,
    FOLDERS,
    PASSWORD_ENV,
    folder_counts,
    run_once,
    table_counts,
    watched_inbox,
    write_config,
)

from compact_docs.errors import MailError
from compact_docs.rules.disputes import DISPOSITIONS
from mailflows import watch as watch_module
from mailflows.config import MailConfig, require_config
from mailflows.facts import read_ahead
from mailflows.parsing import ParsedMessage, parse_message
from mailflows.route import classify
from mailflows.servers.imap import ImapConnection
from mailflows.watch import MailboxWatcher, watch_mailbox


def test_a_mixed_backlog_is_routed_into_the_stage_folders(tmp_path: Path, mail_user: MailUser) -> None:
    messages = corpus()
    config = watched_inbox(tmp_path, mail_user, messages)

    summary, seen = run_once(config)

    assert mail_user.count("INBOX") == 0
    expected = {d: sum(1 for v in EXPECTED.values() if v == d) for d in DISPOSITIONS}
    assert folder_counts(mail_user) == expected
    assert [w.decision.disposition for w in seen] == [EXPECTED[name] for name, _ in messages]
    assert [w.uid for w in seen] == sorted(w.uid for w in seen)
    for watched in seen:
        assert (watched.decision.case_ref is not None) == watched.decision.disposition.startswith("stage-")
        assert set(watched.to_dict()) == {"disposition", "stage", "case_ref", "organisation",
                                          "commissioned", "message_id", "reasons"}
    assert summary.routed == {d: n for d, n in expected.items() if n}
    assert summary.moved == len(messages)
    # BODY.PEEK: nothing was marked read on the way.
    for folder in FOLDERS.values():
        assert all(b"\\Seen" not in flags for flags in mail_user.flags(folder).values())
    counts = table_counts(config.database_path)
    assert counts["messages"] == counts["mailbox_journal"] == len(messages)
    assert counts["cases"] == sum(1 for v in EXPECTED.values() if v.startswith("stage-"))


def test_a_restart_changes_nothing_and_copies_are_recognised(tmp_path: Path, mail_user: MailUser) -> None:
    messages = corpus()[:12]
    config = watched_inbox(tmp_path, mail_user, messages)
    run_once(config)
    before = table_counts(config.database_path)
    placed = folder_counts(mail_user)

    summary, seen = run_once(config)
    assert seen == [] and summary.moved == 0
    assert table_counts(config.database_path) == before

    # The same messages delivered again (a client re-sending, a migration): same folders, no events.
    for _name, raw in messages:
        mail_user.append(raw)
    summary, seen = run_once(config)
    assert summary.already_recorded == len(messages) and summary.routed == {}
    assert [w.decision.disposition for w in seen] == [EXPECTED[name] for name, _ in messages]
    assert all(w.decision.already_recorded for w in seen)
    assert folder_counts(mail_user) == {d: 2 * n for d, n in placed.items()}
    after = table_counts(config.database_path)
    assert {k: after[k] for k in ("cases", "events", "messages")} == \
        {k: before[k] for k in ("cases", "events", "messages")}


class _Crash(BaseException):
    """Stands for the process dying between recording a batch and moving it."""


def _crash_before_moving(config: MailConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run once and crash once the batch is recorded, before any message is moved."""

    def crash(self: ImapConnection, uids: Any, folder: str, **_options: Any) -> None:
        raise _Crash

    with monkeypatch.context() as patch:
        patch.setattr(ImapConnection, "move", crash)
        with pytest.raises(_Crash):
            run_once(config)


def test_recorded_but_not_moved_is_moved_next_time_without_a_second_event(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = corpus()[:10]
    config = watched_inbox(tmp_path, mail_user, messages)
    _crash_before_moving(config, monkeypatch)
    assert mail_user.count("INBOX") == len(messages)
    recorded = table_counts(config.database_path)
    assert recorded["messages"] == len(messages)

    summary, seen = run_once(config)

    assert mail_user.count("INBOX") == 0
    assert summary.resumed == len(messages) and summary.routed == {}
    assert all(w.resumed for w in seen)
    assert [w.decision.disposition for w in seen] == [EXPECTED[name] for name, _ in messages]
    assert table_counts(config.database_path) == recorded
    with sqlite3.connect(config.database_path) as conn:
        states = conn.execute("SELECT state, COUNT(*) FROM mailbox_journal GROUP BY state").fetchall()
    assert states == [("moved", len(messages))]


def test_a_new_uidvalidity_is_recognised_by_message_id(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = corpus()[:8]
    config = watched_inbox(tmp_path, mail_user, messages)
    old_validity = mail_user.uidvalidity()
    _crash_before_moving(config, monkeypatch)
    recorded = table_counts(config.database_path)
    # The inbox is made again: the same messages under a new UIDVALIDITY, with new UIDs.
    new_validity = mail_user.recreate_inbox(keep_messages=True)
    assert new_validity != old_validity
    mail_user.append(corpus()[20][1])  # and one new message

    summary, seen = run_once(config)

    assert mail_user.count("INBOX") == 0
    assert summary.already_recorded == len(messages) and sum(summary.routed.values()) == 1
    assert [w.decision.disposition for w in seen[:-1]] == [EXPECTED[n] for n, _ in messages]
    after = table_counts(config.database_path)
    assert after["events"] == recorded["events"] + (1 if EXPECTED[corpus()[20][0]] != "ignored" else 0)
    assert after["cases"] >= recorded["cases"]
    with sqlite3.connect(config.database_path) as conn:
        states = dict(conn.execute(
            "SELECT uidvalidity || ' ' || state, COUNT(*) FROM mailbox_journal GROUP BY 1").fetchall())
    assert states == {f"{old_validity} stale": len(messages), f"{new_validity} moved": len(messages) + 1}


def test_a_server_without_move_gets_copy_store_and_uid_expunge(
    tmp_path: Path, start_dovecot: Callable[..., DovecotServer]
) -> None:
    server = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE)
    user = server.new_user()
    messages = corpus()[:6]
    config = watched_inbox(tmp_path, user, messages)
    summary, _seen = run_once(config)
    assert summary.moved == len(messages)
    assert user.count("INBOX") == 0
    assert sum(folder_counts(user).values()) == len(messages)


@pytest.mark.parametrize("stop_in", ["expunge", "copy"])
def test_without_move_a_run_stopped_mid_move_never_copies_twice(
    tmp_path: Path, start_dovecot: Callable[..., DovecotServer], monkeypatch: pytest.MonkeyPatch,
    stop_in: str,
) -> None:
    server = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE)
    user = server.new_user()
    # Four destination folders; a Message-ID that is not ASCII; a message without one, last.
    messages = [*corpus()[:12], corpus()[38], corpus()[20], corpus()[40]]
    assert not parse_message(corpus()[38][1]).message_id.isascii()
    assert b"message-id:" not in corpus()[40][1].lower() and EXPECTED[corpus()[40][0]] == "needs-triage"
    for _name, raw in messages:
        user.append(raw)
    served = Counter(parse_message(raw).message_id for raw in user.messages().values())
    config = require_config(write_config(tmp_path, user))
    wanted = {d: sum(1 for name, _ in messages if EXPECTED[name] == d) for d in FOLDERS}
    _crash_mid_move(config, stop_in, monkeypatch)
    recorded = table_counts(config.database_path)
    states = _journal_states(config.database_path)
    with sqlite3.connect(config.database_path) as conn:
        copies = conn.execute("SELECT copy_uid FROM mailbox_journal WHERE state = 'copied'").fetchall()
    if stop_in == "expunge":  # the first folder's copies noted with their COPYUID, the rest untouched
        assert states == {"copied": wanted["stage-1"], "recorded": len(messages) - wanted["stage-1"]}
        assert sorted(uid for (uid,) in copies) == user.uids(FOLDERS["stage-1"])
        assert user.count("INBOX") == len(messages)
        assert user.count(FOLDERS["stage-1"]) == wanted["stage-1"]
    else:  # the others moved; the one without a Message-ID copied, still 'recorded' in the journal
        assert states == {"moved": len(messages) - 1, "recorded": 1}
        assert user.count("INBOX") == 1 and user.count(FOLDERS["needs-triage"]) == 1

    summary, seen = run_once(config)

    assert user.count("INBOX") == 0
    assert folder_counts(user) == wanted
    placed: Counter[str] = Counter()
    for folder in FOLDERS.values():
        for raw in user.messages(folder).values():
            placed[parse_message(raw).message_id] += 1
    assert placed == served and set(placed.values()) == {1}
    assert all(w.resumed for w in seen) and summary.routed == {}
    assert summary.resumed == (1 if stop_in == "copy" else len(messages))
    assert table_counts(config.database_path) == recorded  # no second case event
    assert _journal_states(config.database_path) == {"moved": len(messages)}


def _crash_mid_move(config: MailConfig, stop_in: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run once and crash before expunging the first folder's copies, or after copying to the
    last folder (the server made the copies; the process never heard so)."""
    real_copy = IMAPClient.copy

    def die_before_expunging(self: IMAPClient, *args: Any, **kwargs: Any) -> Any:
        raise _Crash  # the copies are made and noted; STORE \Deleted never happens

    def die_after_copying(self: IMAPClient, messages: Any, folder: str) -> Any:
        answer = real_copy(self, messages, folder)
        if folder == FOLDERS["needs-triage"]:
            raise _Crash
        return answer

    with monkeypatch.context() as patch:
        if stop_in == "expunge":
            patch.setattr(IMAPClient, "add_flags", die_before_expunging)
        else:
            patch.setattr(IMAPClient, "copy", die_after_copying)
        with pytest.raises(_Crash):
            run_once(config)


def _journal_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM mailbox_journal GROUP BY state").fetchall())


def test_a_ten_megabyte_message_is_read_by_its_start(tmp_path: Path, mail_user: MailUser) -> None:
    mail_user.append(large_dispute(10 * 1024 * 1024))
    config = require_config(write_config(tmp_path, mail_user))
    _summary, seen = run_once(config)
    assert [w.decision.disposition for w in seen] == ["stage-1"]
    assert any("over the size cap" in note for note in seen[0].notes)
    assert mail_user.count(FOLDERS["stage-1"]) == 1
    # The whole message is still there, untouched, in its folder.
    stored = next(iter(mail_user.messages(FOLDERS["stage-1"]).values()))
    assert len(stored) > 10 * 1024 * 1024


def test_non_ascii_folder_names_from_the_configuration(tmp_path: Path, mail_user: MailUser) -> None:
    folders = {"stage-1": "Litiges/Étape 1", "stage-2": "Litiges/Étape 2", "stage-3": "Litiges/Étape 3",
               "needs-triage": "Litiges/À trier", "ignored": "Litiges/Ignorés — automatiques"}
    messages = corpus()
    config = watched_inbox(tmp_path, mail_user, messages, folders=folders)
    run_once(config)
    assert set(folders.values()) <= set(mail_user.folders())
    expected = {d: sum(1 for v in EXPECTED.values() if v == d) for d in DISPOSITIONS}
    assert folder_counts(mail_user, folders) == expected
    assert mail_user.count("INBOX") == 0


def _watch_in_thread(config: MailConfig) -> tuple[MailboxWatcher, threading.Thread, list[Any]]:
    errors: list[Any] = []
    watcher = MailboxWatcher(config, environ=ENVIRON)

    def run() -> None:
        try:
            watcher.run()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return watcher, thread, errors


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_new_mail_is_routed_while_idling_and_after_a_kick(
    tmp_path: Path, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mailflows.watch")
    messages = corpus()
    config = require_config(write_config(tmp_path, mail_user, watch={"idle_renew_minutes": 0.02}))
    watcher, thread, errors = _watch_in_thread(config)
    try:
        _wait_for(lambda: watcher.connection.idling)
        mail_user.append(messages[0][1])
        _wait_for(lambda: mail_user.count(FOLDERS[EXPECTED[messages[0][0]]]) == 1)

        time.sleep(1.5)  # past one IDLE renewal (1.2 s here)
        mail_user.kick()  # the server drops every session, as a restart would
        mail_user.append(messages[1][1])
        _wait_for(lambda: mail_user.count("INBOX") == 0 and watcher.summary.reconnects >= 1)
        assert mail_user.count(FOLDERS[EXPECTED[messages[1][0]]]) >= 1
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert watcher.summary.moved == 2
    assert "renewing IDLE" in caplog.text
    assert "connection lost" in caplog.text and "reconnecting in 1 s" in caplog.text


def test_a_refused_login_is_one_clear_error_without_the_password(tmp_path: Path, mail_user: MailUser) -> None:
    config = require_config(write_config(tmp_path, mail_user))
    with pytest.raises(MailError) as caught:
        watch_mailbox(config, once=True, environ={PASSWORD_ENV: "not-the-password-x9"})
    assert "not-the-password-x9" not in str(caught.value)
    assert "logging in" in str(caught.value)


def test_a_message_the_rules_choke_on_goes_to_triage(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = corpus()[:5]
    config = watched_inbox(tmp_path, mail_user, messages)
    real_classify = watch_module.classify
    poisoned = parse_message(messages[2][1]).message_id

    def choke(parsed: ParsedMessage, *args: Any) -> Any:
        if parsed.message_id == poisoned:
            raise RuntimeError("a bug in a rule")
        return real_classify(parsed, *args)

    monkeypatch.setattr(watch_module, "classify", choke)
    summary, seen = run_once(config)
    assert summary.moved == len(messages)
    assert mail_user.count("INBOX") == 0
    assert [w.decision.disposition for w in seen] == [
        "needs-triage" if i == 2 else EXPECTED[name] for i, (name, _) in enumerate(messages)]
    assert "RuntimeError: a bug in a rule" in seen[2].decision.reasons[0]
    assert mail_user.count(FOLDERS["needs-triage"]) == 1


def test_tls_certificates_are_verified_by_default(
    tmp_path: Path, start_dovecot: Callable[..., DovecotServer]
) -> None:
    server = start_dovecot(tls=True)
    user = server.new_user()
    user.append(corpus()[0][1])
    config = require_config(write_config(tmp_path, user, security="tls"))
    with pytest.raises(MailError, match="certificate could not be verified"):
        watch_mailbox(config, once=True, environ=ENVIRON)
    # Trusting the server's own certificate explicitly, the same mailbox is routed.
    trusted = ssl.create_default_context(cafile=str(server.certificate))
    summary = watch_mailbox(config, once=True, environ=ENVIRON, ssl_context=trusted)
    assert summary.moved == 1 and user.count("INBOX") == 0


def test_a_backlog_bigger_than_a_batch(tmp_path: Path, mail_user: MailUser) -> None:
    backlog = realistic_backlog(45)
    with mail_user.connect() as client:
        for _name, raw in backlog:
            client.append("INBOX", raw)
    config = require_config(write_config(tmp_path, mail_user, watch={"batch_size": 10}))
    summary, seen = run_once(config)
    assert [w.decision.disposition for w in seen] == [EXPECTED[name] for name, _ in backlog]
    assert mail_user.count("INBOX") == 0 and summary.moved == len(backlog)


def test_words_left_unread_ahead_are_those_routing_never_reads() -> None:
    # The workers skip reading the words of automatic mail and of mail whose sender is in doubt:
    # routing decides on those before it reads any words, so the decision is the same.
    config = require_config(MAIL / "compact.toml")
    skipped = 0
    for _name, raw in corpus():
        parsed = parse_message(raw)
        ahead = watch_module._read_ahead(parsed, config)
        skipped += ahead.ahead is None
        assert classify(ahead, config).to_dict() == classify(read_ahead(parsed, config), config).to_dict()
    assert skipped
