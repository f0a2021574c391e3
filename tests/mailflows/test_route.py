"""Routing the corpus: each message's disposition, threads from stage 1 to 3, re-runs, mailboxes."""

from __future__ import annotations

import sqlite3
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testdata import MAIL, make_mailbox

from compact_docs.errors import MailError
from compact_docs.register.cases import CaseRegister
from compact_docs.rules.disputes import DISPOSITIONS
from mailflows.config import MailConfig, require_config
from mailflows.facts import read_ahead
from mailflows.parsing import parse_message
from mailflows.route import (
    classify,
    classify_file,
    content_identity,
    excerpt,
    route_mailbox,
    route_message,
)

EXPECTED: dict[str, Any] = tomllib.loads((MAIL / "expected.toml").read_text(encoding="utf-8"))
CONFIG = require_config(MAIL / "compact.toml")
CPYTHON_EMAIL_DATA = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
    / "test" / "test_email" / "data"


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("cases", "events", "case_messages", "messages")}


def test_the_corpus_is_big_and_varied() -> None:
    expected = EXPECTED["messages"]
    assert len(expected) >= 40
    assert set(expected.values()) == {"stage-1", "stage-2", "needs-triage", "ignored"}
    assert sorted(p.name for p in (MAIL / "messages").glob("*.eml")) == sorted(expected)


@pytest.mark.parametrize(("name", "disposition"), sorted(EXPECTED["messages"].items()))
def test_corpus_message_disposition(name: str, disposition: str, register: CaseRegister) -> None:
    decision = classify(parse_message((MAIL / "messages" / name).read_bytes()), CONFIG, register)
    assert decision.disposition == disposition, decision.reasons
    assert decision.reasons
    assert (decision.stage is None) == (not disposition.startswith("stage-"))


@pytest.mark.parametrize("thread", EXPECTED["threads"], ids=lambda t: t["name"].split(":")[0])
def test_threads_move_through_the_stages(thread: dict[str, Any], register: CaseRegister) -> None:
    got = []
    for name in thread["files"]:
        decision = route_message((MAIL / "threads" / name).read_bytes(), CONFIG, register)
        got.append((decision.disposition, decision.case_ref or ""))
    assert got == list(zip(thread["dispositions"], thread["cases"], strict=True))
    case = register.require_case("BXC-2026-0001")
    assert case.stage == int(thread["dispositions"][-2 if thread["dispositions"][-1] == "ignored"
                                                     else -1].split("-")[1])
    escalations = [e for e in register.events(case.ref) if e.kind == "escalated"]
    assert [e.stage for e in escalations] == sorted({e.stage for e in escalations})


def test_route_records_the_decision_and_case(register: CaseRegister) -> None:
    raw = (MAIL / "messages" / "10-already-raised.eml").read_bytes()
    decision = route_message(raw, CONFIG, register, source="test#1")
    assert (decision.disposition, decision.case_ref, decision.action) == ("stage-2",
                                                                          "BXC-2026-0001", "open")
    assert decision.acknowledge and decision.acknowledge_to == "jo.smith@agewell.example"
    case = register.require_case("BXC-2026-0001")
    assert (case.organisation, case.commissioned, case.topic) == ("Bexley Age Well", True,
                                                                  "Monitoring requirements")
    recorded = register.recorded_message(decision.message_id)
    assert recorded is not None and recorded.case_ref == "BXC-2026-0001"
    assert recorded.source == "test#1" and recorded.sender_name == "Jo Smith"
    assert "already raised this with our commissioner" in recorded.excerpt


def test_routing_again_changes_nothing(register: CaseRegister) -> None:
    files = sorted((MAIL / "messages").glob("*.eml")) + sorted((MAIL / "threads").glob("*.eml"))
    first = [route_message(p.read_bytes(), CONFIG, register) for p in files]
    before = counts(register.path)
    second = [route_message(p.read_bytes(), CONFIG, register) for p in files]
    assert counts(register.path) == before
    assert all(d.already_recorded and not d.acknowledge for d in second)
    assert [d.to_dict()["case_ref"] for d in second] == [d.case_ref for d in first]
    assert [d.disposition for d in second] == [d.disposition for d in first]


def test_ignored_mail_is_recorded_but_opens_nothing(register: CaseRegister) -> None:
    decision = route_message((MAIL / "messages" / "24-bounce-dsn.eml").read_bytes(), CONFIG, register)
    assert (decision.disposition, decision.case_ref, decision.acknowledge) == ("ignored", None, False)
    assert register.cases() == []
    assert register.recorded_message(decision.message_id) is not None


def test_reply_to_a_closed_case_needs_triage(register: CaseRegister) -> None:
    route_message((MAIL / "threads" / "b1.eml").read_bytes(), CONFIG, register)
    register.close_case("BXC-2026-0001", actor="caseworker", outcome="Paid")
    decision = route_message((MAIL / "threads" / "b2.eml").read_bytes(), CONFIG, register)
    assert (decision.disposition, decision.case_ref) == ("needs-triage", "BXC-2026-0001")
    case = register.require_case("BXC-2026-0001")
    assert (case.status, case.stage, len(case.message_ids)) == ("closed", 1, 2)


def test_classify_reads_the_register_but_never_writes(register: CaseRegister) -> None:
    route_message((MAIL / "threads" / "b1.eml").read_bytes(), CONFIG, register)
    before = counts(register.path)
    reply = parse_message((MAIL / "threads" / "b2.eml").read_bytes())
    decision = classify(reply, CONFIG, register)
    assert (decision.disposition, decision.case_ref, decision.action) == ("stage-2",
                                                                          "BXC-2026-0001", "escalate")
    assert counts(register.path) == before
    assert register.require_case("BXC-2026-0001").stage == 1
    again = classify(parse_message((MAIL / "threads" / "b1.eml").read_bytes()), CONFIG, register)
    assert again.already_recorded and again.case_ref == "BXC-2026-0001"


def test_classify_file_without_a_configuration() -> None:
    decision = classify_file(MAIL / "messages" / "01-late-payment.eml")
    assert (decision.disposition, decision.organisation) == ("stage-2", None)
    with pytest.raises(MailError, match="no such message file"):
        classify_file(MAIL / "messages" / "missing.eml")


def _config_in(tmp_path: Path) -> MailConfig:
    path = tmp_path / "compact.toml"
    path.write_text((MAIL / "compact.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return require_config(path)


def _files(names: list[str]) -> list[Path]:
    return [MAIL / "threads" / n for n in names]


@pytest.mark.parametrize("key", ["mbox", "maildir"])
def test_route_mailbox_in_order(tmp_path: Path, key: str) -> None:
    config = _config_in(tmp_path)
    box = make_mailbox(key, tmp_path / "box", _files(["a1.eml", "a2.eml", "a3.eml", "a4.eml"]))
    decisions = list(route_mailbox(config, **{key: box}))
    assert [d.disposition for d in decisions] == ["stage-2", "stage-2", "stage-3", "stage-3"]
    assert {d.case_ref for d in decisions} == {f"BXC-{datetime.now(UTC).year}-0001"}
    assert all(d.source for d in decisions)
    assert all(d.already_recorded for d in route_mailbox(config, **{key: box}))


def test_route_mailbox_errors(tmp_path: Path) -> None:
    config = _config_in(tmp_path)
    with pytest.raises(MailError, match="no such mbox"):
        route_mailbox(config, mbox=tmp_path / "none.mbox")
    with pytest.raises(MailError, match="not a Maildir"):
        route_mailbox(config, maildir=tmp_path)
    with pytest.raises(MailError, match="exactly one"):
        route_mailbox(config)
    assert not config.database_path.exists()


def test_a_file_that_is_not_an_mbox_is_refused(tmp_path: Path) -> None:
    config = _config_in(tmp_path)
    eml = MAIL / "threads" / "a1.eml"  # a single message, not an mbox: it would route nothing
    with pytest.raises(MailError, match=r"a1\.eml is not an mbox file: it does not start with a "
                                        r"'From ' line"):
        route_mailbox(config, mbox=eml)
    # Text before the first "From " line would be dropped without a word: refused the same way.
    box = make_mailbox("mbox", tmp_path / "box.mbox", _files(["a1.eml"]))
    prefixed = tmp_path / "prefixed.mbox"
    prefixed.write_bytes(b"Stray notes before the first message\n\n" + box.read_bytes())
    with pytest.raises(MailError, match="is not an mbox file"):
        route_mailbox(config, mbox=prefixed)
    assert not config.database_path.exists()
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert list(route_mailbox(config, mbox=empty)) == []


@pytest.mark.skipif(not CPYTHON_EMAIL_DATA.is_dir(),
                    reason=f"CPython's email test corpus is not installed at {CPYTHON_EMAIL_DATA}")
def test_every_cpython_corpus_message_gets_a_disposition(register: CaseRegister) -> None:
    paths = sorted(CPYTHON_EMAIL_DATA.glob("msg_*.txt"))
    assert len(paths) > 40
    for path in paths:
        decision = route_message(path.read_bytes(), CONFIG, register, source=path.name)
        assert decision.disposition in DISPOSITIONS, path.name
        assert decision.reasons, path.name
        assert content_identity(parse_message(path.read_bytes())).endswith("@compact-docs>")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_routing_arbitrary_bytes_never_raises(register: CaseRegister, raw: bytes) -> None:
    decision = route_message(raw, CONFIG, register)
    assert decision.disposition in DISPOSITIONS
    assert route_message(raw, CONFIG, register).already_recorded
    parsed = parse_message(raw)
    assert content_identity(parsed) == content_identity(parse_message(raw))


def _scenario(name: str) -> bytes:
    return (MAIL / "scenarios" / name).read_bytes()


def test_a_reused_message_id_from_another_sender_is_a_new_message(register: CaseRegister) -> None:
    first = route_message((MAIL / "messages" / "01-late-payment.eml").read_bytes(), CONFIG, register)
    spoof = route_message(_scenario("reused-message-id.eml"), CONFIG, register)
    assert first.message_id == "<a1b2c3.priya@crayfordlarder.example>"
    assert not spoof.already_recorded
    assert spoof.message_id != first.message_id
    assert spoof.message_id.startswith("<") and spoof.message_id.endswith("@compact-docs>")
    assert (spoof.disposition, spoof.case_ref, spoof.action) == ("stage-2", "BXC-2026-0002", "open")
    assert spoof.organisation == "Footscray Mental Health Forum"
    assert spoof.reasons[0].startswith(
        "Message-ID <a1b2c3.priya@crayfordlarder.example> was reused by a different sender "
        "(first recorded from priya@crayfordlarder.example)")
    recorded = register.recorded_message(spoof.message_id)
    assert recorded is not None and recorded.sender == "office@fmhf.example"
    original = register.recorded_message(first.message_id)
    assert original is not None and original.case_ref == "BXC-2026-0001"
    # Routing the same bytes again gives the same identity: recognised, nothing changes.
    before = counts(register.path)
    again = route_message(_scenario("reused-message-id.eml"), CONFIG, register)
    assert again.already_recorded and again.message_id == spoof.message_id
    assert again.case_ref == "BXC-2026-0002"
    assert route_message((MAIL / "messages" / "01-late-payment.eml").read_bytes(), CONFIG,
                         register).already_recorded
    assert counts(register.path) == before


def test_a_re_delivery_through_another_relay_is_still_recognised(register: CaseRegister) -> None:
    raw = (MAIL / "messages" / "01-late-payment.eml").read_bytes()
    route_message(raw, CONFIG, register)
    resent = (b"Received: from relay2.example by mx.bvsc.example; Tue, 17 Nov 2026 10:00:00 +0000\r\n"
              b"Delivered-To: disputes@bvsc.example\r\n" + raw).replace(b"\r\n", b"\n")
    assert route_message(resent, CONFIG, register).already_recorded


def test_tried_informal_in_a_reply_at_stage_2_does_not_escalate(register: CaseRegister) -> None:
    opened = route_message((MAIL / "threads" / "c1.eml").read_bytes(), CONFIG, register)
    assert (opened.disposition, opened.case_ref) == ("stage-2", "BXC-2026-0001")
    reply = route_message(_scenario("reply-tried-informal-at-stage-2.eml"), CONFIG, register)
    assert (reply.disposition, reply.case_ref, reply.action) == ("stage-2", "BXC-2026-0001", "join")
    assert reply.reasons[-1] == "no request to escalate: stays at stage 2"
    assert register.require_case("BXC-2026-0001").stage == 2


def test_only_the_case_organisation_escalates_by_quoting_the_reference(
        register: CaseRegister) -> None:
    route_message((MAIL / "messages" / "01-late-payment.eml").read_bytes(), CONFIG, register)
    stranger = route_message(_scenario("stranger-asks-to-escalate.eml"), CONFIG, register)
    assert (stranger.disposition, stranger.stage, stranger.case_ref, stranger.action) == (
        "stage-1", 1, "BXC-2026-0001", "join")
    assert stranger.reasons[-1].startswith("asks to escalate case BXC-2026-0001 (")
    assert stranger.reasons[-1].endswith(
        "but is not from Crayford Community Larder: only the case's own side escalates it, so it "
        "joins at stage 1; a caseworker decides whether to escalate")
    other = route_message(_scenario("other-organisation-asks-to-escalate.eml"), CONFIG, register)
    assert (other.disposition, other.case_ref, other.action) == ("stage-1", "BXC-2026-0001", "join")
    case = register.require_case("BXC-2026-0001")
    assert case.stage == 1
    assert {stranger.message_id, other.message_id} <= set(case.message_ids)
    assert not [e for e in register.events(case.ref) if e.kind == "escalated"]
    recorded = register.recorded_message(stranger.message_id)
    assert recorded is not None and recorded.case_ref == "BXC-2026-0001"
    adds = route_message(_scenario("stranger-adds-information.eml"), CONFIG, register)
    assert (adds.disposition, adds.case_ref, adds.action) == ("stage-1", "BXC-2026-0001", "join")
    larder = route_message(_scenario("larder-asks-to-escalate.eml"), CONFIG, register)
    assert (larder.disposition, larder.case_ref, larder.action) == ("stage-2", "BXC-2026-0001",
                                                                    "escalate")
    assert register.require_case("BXC-2026-0001").stage == 2


def test_the_excerpt_is_the_same_with_the_words_read_ahead() -> None:
    # The register's excerpt comes from the own words read ahead (by the watcher's workers)
    # when there are some: they must be the very words routing would read itself.
    for path in sorted((MAIL / "messages").glob("*.eml")):
        parsed = parse_message(path.read_bytes())
        assert excerpt(read_ahead(parsed, CONFIG)) == excerpt(parsed), path.name
