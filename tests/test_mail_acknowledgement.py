"""Acknowledgements: subject with the case reference, threading headers, RFC 3834 marking, stage wording."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from compact_docs.errors import MailError
from compact_docs.register import CaseRegister
from mailflows.acknowledgement import build_acknowledgement
from mailflows.config import MailConfig, require_config
from mailflows.facts import automatic_reasons
from mailflows.parsing import parse_message
from mailflows.route import RoutingDecision, route_message

MAIL = Path(__file__).resolve().parent / "data" / "mail"
CONFIG = require_config(MAIL / "compact.toml")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def register(tmp_path: Path) -> Iterator[CaseRegister]:
    with CaseRegister(tmp_path / "cases.db", CONFIG.compact_profile, clock=lambda: NOW) as reg:
        yield reg


def route(register: CaseRegister, folder: str, name: str) -> tuple[RoutingDecision, bytes]:
    raw = (MAIL / folder / name).read_bytes()
    return route_message(raw, CONFIG, register), raw


def test_stage_1_acknowledgement(register: CaseRegister) -> None:
    decision, raw = route(register, "threads", "b1.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG, now=NOW)
    assert ack is not None
    assert ack["Subject"] == "Re: Unpaid invoice INV-0950 [BXC-2026-0001]"
    assert ack["To"] == "priya@crayfordlarder.example"
    assert ack["From"] == "disputes@bvsc.example"
    assert ack["In-Reply-To"] == "<thread-b1@crayfordlarder.example>"
    assert ack["References"] == "<thread-b1@crayfordlarder.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Message-ID"].endswith("@bvsc.example>")
    body = ack.get_content()
    assert "opened case BXC-2026-0001 at stage 1" in body
    assert "try to resolve the issue informally with its commissioner first" in body
    assert "Conflict Resolution, stage 1" in body
    assert "of the Bexley Compact's conflict-resolution process" in " ".join(body.split())
    assert "the The" not in body
    # Our own acknowledgement is automatic mail by our own rules, so two robots never loop.
    reparsed = parse_message(ack.as_bytes())
    assert automatic_reasons(reparsed)


def test_escalation_acknowledgement_says_the_case_moved(register: CaseRegister) -> None:
    route(register, "threads", "c1.eml")
    decision, raw = route(register, "threads", "c2.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG)
    assert ack is not None
    body = ack.get_content()
    assert "Case BXC-2026-0001 has moved to stage 3" in body
    assert "referred for a policy decision" in body
    assert ack["References"].split()[-1] == "<thread-c2@sidcupyoutharts.example>"


def test_needs_triage_acknowledgement_has_no_case(register: CaseRegister) -> None:
    decision, raw = route(register, "messages", "32-thank-you.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG)
    assert ack is not None
    assert ack["Subject"] == "Re: Thank you for the Compact workshop"
    assert "a caseworker will read it" in ack.get_content()


def test_reply_to_is_where_the_acknowledgement_goes(register: CaseRegister) -> None:
    decision, raw = route(register, "messages", "20-reply-to.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG)
    assert ack is not None and ack["To"] == "ana.ruiz@crayfordlarder.example"


@pytest.mark.parametrize("name", ["21-auto-submitted-ooo.eml", "24-bounce-dsn.eml",
                                  "26-mailing-list.eml"])
def test_no_acknowledgement_for_automatic_mail(register: CaseRegister, name: str) -> None:
    decision, raw = route(register, "messages", name)
    assert build_acknowledgement(decision, parse_message(raw), CONFIG) is None


def test_no_second_acknowledgement_on_a_rerun(register: CaseRegister) -> None:
    route(register, "threads", "a1.eml")
    decision, raw = route(register, "threads", "a1.eml")
    assert decision.already_recorded
    assert build_acknowledgement(decision, parse_message(raw), CONFIG) is None


def test_non_ascii_message_id_still_threads(register: CaseRegister) -> None:
    decision, raw = route(register, "messages", "39-non-ascii-message-id.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG)
    assert ack is not None
    sent = message_from_bytes(ack.as_bytes(), policy=policy.default)
    assert "réclamation-2@sidcupyoutharts.example" in str(sent["In-Reply-To"])


def test_generated_identity_is_not_put_in_headers(register: CaseRegister) -> None:
    decision, raw = route(register, "messages", "41-no-message-id.eml")
    ack = build_acknowledgement(decision, parse_message(raw), CONFIG)
    assert ack is not None and ack["In-Reply-To"] is None


def test_needs_a_from_address(register: CaseRegister) -> None:
    decision, raw = route(register, "threads", "a1.eml")
    with pytest.raises(MailError, match=r"\[mail.smtp\]"):
        build_acknowledgement(decision, parse_message(raw), MailConfig())
    ack = build_acknowledgement(decision, parse_message(raw), MailConfig(), sender="x@bvsc.example")
    assert ack is not None and ack["From"] == "x@bvsc.example"
