"""The caseworker's workbench over a register of real routed mail: triage, corrections, merges, history."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backlog import MAIL
from testdata import Clock

from compact_docs.errors import RegisterError
from compact_docs.register.cases import CaseRegister
from compact_docs.register.casework import (
    MOVED_IN_THE_MAILBOX,
    add_note,
    assign_case,
    attach_message,
    correct_by_move,
    entry_stage,
    merge_cases,
    open_from_message,
    reopen_case,
    restage,
    triage_queue,
)
from compact_docs.register.schema import REGISTER_TABLES
from mailflows.config import MailConfig, require_config
from mailflows.route import RoutingDecision, route_message
from mailflows.tables import MAILBOX_TABLES

MESSAGES = MAIL / "messages"
THREADS = MAIL / "threads"
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
"""When this file's register starts: a working Monday morning."""


@pytest.fixture
def config() -> MailConfig:
    return require_config(MAIL / "compact.toml")


@pytest.fixture
def register(tmp_path: Path, config: MailConfig) -> Iterator[CaseRegister]:
    with CaseRegister(tmp_path / "cases.db", config.compact_profile, clock=Clock(MONDAY)) as reg:
        yield reg


def route(register: CaseRegister, config: MailConfig, *names: str) -> list[RoutingDecision]:
    found = []
    for name in names:
        folder = THREADS if name[0].isalpha() and len(name) <= 6 else MESSAGES
        found.append(route_message((folder / name).read_bytes(), config, register))
    return found


def test_case_dates_come_from_the_mail_not_the_routing(register: CaseRegister, config: MailConfig) -> None:
    (decision,) = route(register, config, "01-late-payment.eml")  # Date: Tue, 17 Nov 2026 09:14:03
    case = register.require_case(decision.case_ref or "")
    assert case.opened.startswith("2026-11-30")
    assert case.received == case.stage_since == "2026-11-17T09:14:03+00:00"
    assert case.to_dict()["received"] == "2026-11-17T09:14:03+00:00"
    message = register.recorded_message(decision.message_id)
    assert message is not None and message.received == "2026-11-17T09:14:03+00:00"


def test_the_triage_queue_lists_waiting_messages_oldest_first(register: CaseRegister, config: MailConfig) -> None:
    route(register, config, "35-question.eml", "32-thank-you.eml", "01-late-payment.eml", "26-mailing-list.eml")
    waiting = triage_queue(register)
    assert {m.message_id for m in waiting} == {d.message_id for d in route(register, config, "35-question.eml",
                                                                            "32-thank-you.eml")}
    received = [m.received or "" for m in waiting]
    assert received == sorted(received)
    assert all(m.reasons for m in waiting)


def test_opening_a_case_from_triage_is_a_correction_kept_with_the_message(
    register: CaseRegister, config: MailConfig
) -> None:
    (question,) = route(register, config, "35-question.eml")
    case = open_from_message(register, question.message_id, organisation="Belvedere Men's Shed",
                             commissioned=False, actor="priya", reason="It is a notice dispute after all")
    assert case.stage == 2  # not commissioned: straight to stage 2
    assert case.received == "2026-11-17T19:20:00+00:00"
    assert triage_queue(register) == []
    events = register.events(case.ref)
    assert [(e.kind, e.actor) for e in events] == [("opened", "priya"), ("correction", "priya")]
    correction = events[-1]
    assert (correction.disposition, correction.previous, correction.via) == ("stage-2", "needs-triage", "command")
    assert correction.reason == "It is a notice dispute after all"
    message = register.recorded_message(question.message_id)
    assert message is not None
    assert (message.disposition, message.routed_disposition, message.case_ref) == ("stage-2", "needs-triage",
                                                                                   case.ref)
    ((text, disposition),) = register.corrections()
    assert disposition == "stage-2" and "Question about notice periods" in text and "how much notice" in text
    with pytest.raises(RegisterError, match="already on case"):
        open_from_message(register, question.message_id, organisation=None, commissioned=None, actor="x",
                          reason="again")
    with pytest.raises(RegisterError, match="needs a reason"):
        open_from_message(register, "<nothing@x>", organisation=None, commissioned=None, actor="x", reason=" ")
    with pytest.raises(RegisterError, match="no message"):
        open_from_message(register, "nothing@x", organisation=None, commissioned=None, actor="x", reason="r")


def test_restage_moves_a_case_down_or_up_and_corrects_the_deciding_message(
    register: CaseRegister, config: MailConfig
) -> None:
    (decision,) = route(register, config, "10-already-raised.eml")
    assert decision.stage == 2
    ref = decision.case_ref or ""
    case = restage(register, ref, 1, actor="sam", reason="They have not spoken to the commissioner")
    assert case.stage == 1 and case.stage_since == "2026-11-30T10:00:00+00:00"
    assert register.corrections()[-1][1] == "stage-1"
    case = restage(register, ref, 2, actor="sam", reason="They had, by phone")
    assert case.stage == 2
    assert len(register.corrections()) == 1  # one message, its latest correction
    assert register.corrections()[0][1] == "stage-2"
    with pytest.raises(RegisterError, match="already at stage 2"):
        restage(register, ref, 2, actor="sam", reason="again")
    with pytest.raises(RegisterError, match="needs a reason"):
        restage(register, ref, 1, actor="sam", reason="")


def test_attach_merge_reopen_note_assign_are_recorded_with_who_and_why(
    register: CaseRegister, config: MailConfig
) -> None:
    first, duplicate, question = route(register, config, "01-late-payment.eml", "16-unknown-sender.eml",
                                       "35-question.eml")
    keep, dup = first.case_ref or "", duplicate.case_ref or ""
    case = attach_message(register, question.message_id, keep, actor="ana", reason="Same invoice")
    assert question.message_id in case.message_ids
    with pytest.raises(RegisterError, match="cases merge"):
        attach_message(register, duplicate.message_id, keep, actor="ana", reason="Same")

    merged = merge_cases(register, dup, keep, actor="ana", reason="The same complaint, forwarded")
    assert duplicate.message_id in merged.message_ids
    gone = register.require_case(dup)
    assert (gone.status, gone.merged_into, gone.outcome) == ("closed", keep, f"Merged into {keep}")
    with pytest.raises(RegisterError, match="merged into"):
        reopen_case(register, dup, actor="ana", reason="no")
    with pytest.raises(RegisterError, match="already merged"):
        merge_cases(register, dup, keep, actor="ana", reason="twice")

    register.close_case(keep, actor="ana", outcome="Paid")
    reopened = reopen_case(register, keep, actor="ana", reason="Not paid after all")
    assert reopened.status == "open" and reopened.outcome is None
    add_note(register, keep, "Rang the finance team", actor="bo")
    assigned = assign_case(register, keep, "Priya Shah", actor="bo", reason="Leads on grants")
    assert assigned.owner == "Priya Shah"
    kinds = [(e.kind, e.actor) for e in register.events(keep)]
    assert kinds[-5:] == [("merged", "ana"), ("closed", "ana"), ("reopened", "ana"), ("note", "bo"),
                          ("assigned", "bo")]
    last = register.events(keep)[-1].to_dict()
    assert last["by"] == "bo" and last["reason"] == "assigned to Priya Shah: Leads on grants"
    note = register.events(keep)[-2].to_dict()
    assert note["text"] == "Rang the finance team"


def test_a_move_in_the_mailbox_opens_joins_or_restages(register: CaseRegister, config: MailConfig) -> None:
    a1, _a2, question = route(register, config, "a1.eml", "a2.eml", "35-question.eml")
    a1_message = register.recorded_message(a1.message_id)
    assert a1_message is not None
    moved = correct_by_move(register, a1_message, 1, from_folder="Disputes/Stage 2", to_folder="Disputes/Stage 1")
    assert (moved.action, moved.case_ref) == ("restaged", a1.case_ref)
    events = register.events(a1.case_ref or "")
    assert events[-1].actor == MOVED_IN_THE_MAILBOX and events[-1].via == "mailbox"
    triaged = register.recorded_message(question.message_id)
    assert triaged is not None
    opened = correct_by_move(register, triaged, 2, from_folder="Disputes/Needs triage",
                             to_folder="Disputes/Stage 2")
    assert opened.action == "opened" and opened.case_ref != a1.case_ref
    assert register.require_case(opened.case_ref or "").stage == 2


def test_entry_stage_follows_the_compact() -> None:
    profile = require_config(MAIL / "compact.toml").compact_profile
    assert entry_stage(profile, True) == 1
    assert entry_stage(profile, False) == 2
    assert entry_stage(profile, None) == 2


def test_a_register_of_schema_3_is_upgraded_with_its_history(tmp_path: Path, config: MailConfig) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        # Before each package owned its tables: one sequence, at 3 (the journal's 'copied' state).
        for step in (REGISTER_TABLES.steps[0], *MAILBOX_TABLES.steps[:2]):
            conn.executescript(step.sql)
        conn.execute("PRAGMA user_version = 3")
        conn.execute("INSERT INTO cases (ref, year, number, stage, opened, updated) VALUES "
                     "('BXC-2026-0001', 2026, 1, 2, '2026-11-20T10:00:00+00:00', '2026-11-21T10:00:00+00:00')")
        conn.execute("INSERT INTO events (ref, at, kind, stage, actor) VALUES "
                     "('BXC-2026-0001', '2026-11-20T10:00:00+00:00', 'opened', 2, 'router')")
        conn.execute("INSERT INTO mailbox_journal (folder, uidvalidity, uid, message_id, disposition, "
                     "destination, state, recorded) VALUES ('INBOX', 1, 7, '<m@x>', 'stage-2', "
                     "'Disputes/Stage 2', 'moved', '2026-11-20T10:00:00+00:00')")
    with CaseRegister(path, config.compact_profile, tables=(MAILBOX_TABLES,)) as register:
        case = register.require_case("BXC-2026-0001")
        assert case.received == "2026-11-20T10:00:00+00:00" and case.stage_since == "2026-11-21T10:00:00+00:00"
        assert [e.kind for e in register.events(case.ref)] == ["opened"]
        row = register.execute("SELECT folder FROM mailbox_placements WHERE message_id = '<m@x>'").fetchone()
        assert row[0] == "Disputes/Stage 2"
