"""A case's escalation letter: data built from the register, written by the letters renderer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document

from compact_docs.case_letter import escalation_data, write_case_letter
from compact_docs.errors import RegisterError
from compact_docs.loading import load_letter
from compact_docs.models import EscalationLetter
from compact_docs.register import CaseRegister
from mailflows.config import require_config
from mailflows.route import route_message

MAIL = Path(__file__).resolve().parent / "data" / "mail"
CONFIG = require_config(MAIL / "compact.toml")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def register(tmp_path: Path) -> Iterator[CaseRegister]:
    with CaseRegister(tmp_path / "cases.db", CONFIG.compact_profile, clock=lambda: NOW) as reg:
        yield reg


def letter_of(data: dict[str, object]) -> EscalationLetter:
    letter = load_letter(data)
    assert isinstance(letter, EscalationLetter)
    return letter


def route_thread(register: CaseRegister, *names: str) -> None:
    for name in names:
        route_message((MAIL / "threads" / name).read_bytes(), CONFIG, register)


def test_stage_1_letter_data(register: CaseRegister) -> None:
    route_thread(register, "a1.eml")
    data = escalation_data(register, "BXC-2026-0001", commissioner="commissioning@bexley.example",
                           commissioner_body="London Borough of Bexley", on=date(2026, 11, 25))
    letter = letter_of(data)
    assert letter.kind == "escalation" and letter.stage == 1
    assert letter.case_ref == "BXC-2026-0001"
    assert letter.organisation.name == "Bexley Age Well" and letter.organisation.commissioned
    assert letter.organisation.contact is not None and letter.organisation.contact.name == "Jo Smith"
    assert letter.commissioner.name == "London Borough of Bexley"
    assert letter.issue.summary == "Disproportionate monitoring for Community Connect"
    assert letter.issue.details is not None
    assert letter.issue.details.startswith("The monthly monitoring returns")
    assert "Jo Smith, Bexley Age Well" not in letter.issue.details
    assert letter.tried == [] and data["date"] == "2026-11-25"


def test_stage_3_letter_data_has_history_and_policy_decision(register: CaseRegister) -> None:
    route_thread(register, "a1.eml", "a2.eml", "a3.eml")
    letter = letter_of(escalation_data(register, "BXC-2026-0001", asks=["A proportionate return"]))
    assert letter.stage == 3
    assert [a.action for a in letter.tried] == ["Stage 1, Informal resolution",
                                                 "Stage 2, Raised with BVSC"]
    assert letter.tried[0].outcome is not None and "still not resolved" in letter.tried[0].outcome
    assert letter.policy_decision is not None
    assert "only the Strategic Commissioning Board" in letter.policy_decision
    assert letter.asks == ["A proportionate return"]


def test_a_persons_escalation_reason_is_the_policy_decision(register: CaseRegister) -> None:
    route_thread(register, "c1.eml")
    register.escalate("BXC-2026-0001", actor="caseworker",
                      reason="Whether youth groups pay the community rate for council halls")
    letter = letter_of(escalation_data(register, "BXC-2026-0001"))
    assert letter.policy_decision == "Whether youth groups pay the community rate for council halls"
    assert not letter.organisation.commissioned


def test_commissioned_case_opened_at_stage_2_says_informal_was_tried(register: CaseRegister) -> None:
    route_message((MAIL / "messages" / "10-already-raised.eml").read_bytes(), CONFIG, register)
    letter = letter_of(escalation_data(register, "BXC-2026-0001"))
    assert letter.stage == 2
    assert [a.action for a in letter.tried] == ["Informal resolution with the commissioner"]


def test_write_case_letter_uses_the_renderer(register: CaseRegister, tmp_path: Path) -> None:
    route_thread(register, "a1.eml", "a2.eml")
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"],
                               commissioner_body="London Borough of Bexley",
                               asks=["A senior officer to review the monitoring"])
    assert [p.name for p in result.files] == ["bxc-2026-0001_bexley-age-well_escalation-stage-2.docx"]
    text = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "BXC-2026-0001" in text and "A senior officer to review the monitoring" in text


def test_unknown_case(register: CaseRegister) -> None:
    with pytest.raises(RegisterError, match="no case"):
        escalation_data(register, "BXC-2026-0404")


def test_docxtpl_escapes_in_an_email_print_literally_in_the_case_letter(register: CaseRegister,
                                                                       tmp_path: Path) -> None:
    hostile = Path(__file__).resolve().parent / "data" / "hostile" / "letters" / "docxtpl-escapes.eml"
    route_message(hostile.read_bytes(), CONFIG, register)
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"])
    text = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "The monthly {_{ returns }_} for Community Connect are {_% disproportionate %_}" in text
