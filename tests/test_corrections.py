"""Corrections by moving mail, against a real Dovecot: a second IMAP client moves messages as a person would."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from backlog import MAIL
from servers import CAPABILITIES_WITHOUT_MOVE, DovecotServer, MailUser
from test_watch import FOLDERS, run_once, write_config

from compact_docs.casework import MOVED_IN_THE_MAILBOX
from compact_docs.register import CaseRegister
from mailflows.config import MailConfig, require_config

MESSAGES = MAIL / "messages"
THREADS = MAIL / "threads"
# Dovecot's capabilities with MOVE but without CONDSTORE and QRESYNC: the folder check falls back to UIDNEXT.
WITHOUT_CONDSTORE = CAPABILITIES_WITHOUT_MOVE.replace("CONDSTORE QRESYNC ", "") + " MOVE"

ALREADY_RAISED = "<CAF3x9Qm4@mail.agewell.example>"
QUESTION = "<tr-001@belvedereshed.example>"


def move_by_hand(user: MailUser, message_id: str, source: str, destination: str) -> None:
    """What a caseworker's Outlook does: another IMAP session moves one message between folders."""
    with user.connect() as client:
        client.select_folder(source)
        uids = client.search(["HEADER", "Message-ID", message_id])
        assert len(uids) == 1, f"{message_id} not in {source}"
        client.move(uids, destination)


def corrections(config: MailConfig) -> list[tuple[str, str, str, str | None, str | None]]:
    with sqlite3.connect(config.database_path) as conn:
        return [tuple(row) for row in conn.execute(
            "SELECT ref, message_id, actor, disposition, previous FROM events WHERE kind = 'correction' "
            "ORDER BY id")]


def message_id_of(name: str) -> str:
    for line in (MESSAGES / name).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.lower().startswith("message-id:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(name)


def route_three(tmp_path: Path, user: MailUser) -> MailConfig:
    for name in ("01-late-payment.eml", "10-already-raised.eml", "35-question.eml"):
        user.append((MESSAGES / name).read_bytes())
    config = require_config(write_config(tmp_path, user))
    summary, seen = run_once(config)
    assert [w.decision.disposition for w in seen] == ["stage-1", "stage-2", "needs-triage"]
    assert summary.corrections == 0  # the router's own moves are not a person's
    return config


@pytest.fixture(params=["condstore", "without-condstore"])
def user(request: pytest.FixtureRequest, mail_user: MailUser,
         start_dovecot: Callable[..., DovecotServer]) -> MailUser:
    if request.param == "condstore":
        return mail_user
    return start_dovecot(imap_capability=WITHOUT_CONDSTORE).new_user()


def test_moves_between_stage_folders_and_out_of_triage_are_corrections_recorded_once(
    tmp_path: Path, user: MailUser
) -> None:
    config = route_three(tmp_path, user)
    with CaseRegister(config.database_path, config.compact_profile, readonly=True) as register:
        raised = register.case_for_message_ids([ALREADY_RAISED])
        assert raised is not None and raised.stage == 2

    move_by_hand(user, ALREADY_RAISED, FOLDERS["stage-2"], FOLDERS["stage-1"])
    move_by_hand(user, QUESTION, FOLDERS["needs-triage"], FOLDERS["stage-2"])
    summary, seen = run_once(config)

    assert seen == [] and summary.corrections == 2
    with CaseRegister(config.database_path, config.compact_profile, readonly=True) as register:
        restaged = register.require_case(raised.ref)
        assert restaged.stage == 1
        opened = register.case_for_message_ids([QUESTION])
        assert opened is not None and opened.stage == 2 and opened.ref != raised.ref
        assert opened.received == "2026-11-17T19:20:00+00:00"  # the message's own date
        last = register.events(restaged.ref)[-1]
        assert (last.kind, last.actor, last.via, last.disposition, last.previous) == (
            "correction", MOVED_IN_THE_MAILBOX, "mailbox", "stage-1", "stage-2")
        assert "'Disputes/Stage 2' to 'Disputes/Stage 1'" in last.reason
        assert sorted(d for _text, d in register.corrections()) == ["stage-1", "stage-2"]
    recorded = corrections(config)
    assert len(recorded) == 2

    # A restart, and a restart that lost the folders' state: nothing is counted twice.
    summary, _seen = run_once(config)
    assert summary.corrections == 0
    with sqlite3.connect(config.database_path) as conn:
        conn.execute("DELETE FROM mailbox_folder_state")
    summary, _seen = run_once(config)
    assert summary.corrections == 0 and corrections(config) == recorded

    # Moved back: a second correction, of the same case.
    move_by_hand(user, ALREADY_RAISED, FOLDERS["stage-1"], FOLDERS["stage-2"])
    summary, _seen = run_once(config)
    assert summary.corrections == 1
    with CaseRegister(config.database_path, config.compact_profile, readonly=True) as register:
        assert register.require_case(raised.ref).stage == 2
    assert len(corrections(config)) == 3


def test_a_message_filed_by_hand_before_the_router_saw_it_is_routed_then_corrected(
    tmp_path: Path, mail_user: MailUser
) -> None:
    config = require_config(write_config(tmp_path, mail_user))
    run_once(config)  # the folders exist now
    # 01 is a stage-1 dispute to the router; a person filed it in Stage 2 straight from the inbox.
    mail_user.append((MESSAGES / "01-late-payment.eml").read_bytes(), FOLDERS["stage-2"])

    summary, _seen = run_once(config)

    assert summary.corrections == 1
    with CaseRegister(config.database_path, config.compact_profile, readonly=True) as register:
        case = register.case_for_message_ids([message_id_of("01-late-payment.eml")])
        assert case is not None and case.stage == 2
        assert [e.kind for e in register.events(case.ref)] == ["opened", "correction"]


def test_a_reply_moved_out_of_triage_joins_the_case_it_threads_to(tmp_path: Path, mail_user: MailUser) -> None:
    for name in ("a1.eml",):
        mail_user.append((THREADS / name).read_bytes())
    config = require_config(write_config(tmp_path, mail_user))
    run_once(config)
    with CaseRegister(config.database_path, config.compact_profile) as register:
        (case,) = register.cases()
        register.close_case(case.ref, actor="test", outcome="Resolved")
    # a2 replies to a1; its case is closed, so the router leaves it for a person.
    mail_user.append((THREADS / "a2.eml").read_bytes())
    _summary, seen = run_once(config)
    assert [w.decision.disposition for w in seen] == ["needs-triage"]
    with CaseRegister(config.database_path, config.compact_profile) as register:
        from compact_docs.casework import reopen_case

        reopen_case(register, case.ref, actor="test", reason="They wrote again")
    move_by_hand(mail_user, seen[0].decision.message_id, FOLDERS["needs-triage"], FOLDERS["stage-1"])

    summary, _seen = run_once(config)

    assert summary.corrections == 1
    with CaseRegister(config.database_path, config.compact_profile, readonly=True) as register:
        joined = register.require_case(case.ref)
        assert seen[0].decision.message_id in joined.message_ids and joined.stage == 1


def test_the_watcher_logs_a_daily_line_of_overdue_cases(
    tmp_path: Path, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    mail_user.append((MESSAGES / "01-late-payment.eml").read_bytes())  # dated 17 November 2026
    config = require_config(write_config(tmp_path, mail_user))
    with caplog.at_level(logging.INFO, logger="mailflows.watch"):
        run_once(config)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("overdue cases on ")]
    assert len(lines) == 1
