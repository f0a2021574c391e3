"""A case's escalation letter: data built from the register, written by the letters renderer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from docx import Document
from testdata import HOSTILE_LETTERS, MAIL

from compact_docs.errors import ComplianceError, RegisterError
from compact_docs.loading import load_letter
from compact_docs.models import EscalationLetter
from compact_docs.register.case_letter import escalation_data, write_case_letter
from compact_docs.register.cases import CaseRegister
from mailflows.config import require_config
from mailflows.route import route_message

CONFIG = require_config(MAIL / "compact.toml")


def letter_of(data: dict[str, object]) -> EscalationLetter:
    letter = load_letter(data)
    assert isinstance(letter, EscalationLetter)
    return letter


def route_thread(register: CaseRegister, *names: str) -> None:
    for name in names:
        route_message((MAIL / "threads" / name).read_bytes(), CONFIG, register)


def test_letter_data_of_a_case_opened_at_its_issue_types_stage(register: CaseRegister) -> None:
    route_thread(register, "a1.eml")  # an objection to monitoring: the Compact's stage-2 example
    data = escalation_data(register, "BXC-2026-0001", commissioner="commissioning@bexley.example",
                           commissioner_body="London Borough of Bexley", on=date(2026, 11, 25))
    letter = letter_of(data)
    assert letter.kind == "escalation" and letter.stage == 2
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
    assert [a.action for a in letter.tried] == ["Stage 2, Raised with BVSC"]  # opened at 2: monitoring
    # what was tried is reported in BVSC's voice, never the organisation's email pasted in
    assert letter.tried[0].outcome == ("Not resolved; on 24 November 2026 Bexley Age Well asked for it "
                                       "to go to stage 3")
    assert all("policy decision is needed" not in (a.outcome or "") for a in letter.tried)
    assert letter.policy_decision is not None
    assert letter.policy_decision.startswith("Bexley Age Well wrote to BVSC: \u201c")
    assert "only the Strategic Commissioning Board" in letter.policy_decision
    assert letter.asks == ["A proportionate return"]


def test_the_organisations_draft_speaks_as_we(register: CaseRegister) -> None:
    route_thread(register, "a1.eml", "a2.eml", "a3.eml")
    letter = letter_of(escalation_data(register, "BXC-2026-0001", voice="organisation"))
    assert letter.voice == "organisation"
    assert letter.tried[0].outcome == "Not resolved; on 24 November 2026 we asked for it to go to stage 3"
    assert letter.issue.quoted_from is None
    assert letter.policy_decision is not None and letter.policy_decision.startswith("Thank you")


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
    assert letter.tried[0].outcome == ("Not resolved, as Bexley Age Well told BVSC when it raised the "
                                       "dispute")


def test_write_case_letter_uses_the_renderer(register: CaseRegister, tmp_path: Path) -> None:
    route_thread(register, "a1.eml", "a2.eml")
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"],
                               commissioner_body="London Borough of Bexley",
                               asks=["A senior officer to review the monitoring"])
    assert [p.name for p in result.files] == ["bxc-2026-0001_bexley-age-well_escalation-stage-2.docx"]
    text = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "BXC-2026-0001" in text and "A senior officer to review the monitoring" in text


def _docx_lines(path: Path) -> list[str]:
    document = Document(str(path))
    lines = [p.text for p in document.paragraphs]
    lines += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return lines


def test_a_case_letter_is_bvscs_letter_quoting_the_organisation(register: CaseRegister,
                                                                 tmp_path: Path) -> None:
    route_thread(register, "a1.eml", "a2.eml")
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx", "pdf"],
                               commissioner="commissioning@bexley.example",
                               commissioner_body="London Borough of Bexley")
    lines = _docx_lines(next(p for p in result.files if p.suffix == ".docx"))
    text = "\n".join(lines)
    assert lines[0] == "Bexley Voluntary Service Council"                 # BVSC's letterhead
    assert "London Borough of Bexley" in text and "Dear Commissioning officer," in text
    assert "We are writing on behalf of Bexley Age Well" in text
    assert "Bexley Age Well's email to BVSC said:" in text
    assert "\u201cThe monthly monitoring returns for Community Connect" in text
    assert "Jattinder Rai" in lines and "Jo Smith" not in lines[-6:-1]      # BVSC signs
    assert any(line.startswith("Copy to: Jo Smith") for line in lines)
    assert "as the organisation said" not in text
    from pypdf import PdfReader

    pdf = " ".join(PdfReader(str(next(p for p in result.files if p.suffix == ".pdf"))).pages[0]
                   .extract_text().split())
    assert "We are writing on behalf of Bexley Age Well" in pdf


def test_the_organisations_draft_is_its_own_letter_to_bvsc(register: CaseRegister, tmp_path: Path) -> None:
    route_thread(register, "a1.eml", "a2.eml")
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"],
                               commissioner_body="London Borough of Bexley", voice="organisation")
    lines = _docx_lines(result.files[0])
    assert lines[0] == "Bexley Age Well"
    assert "Dear Jattinder Rai," in lines
    assert "We are writing to raise a dispute with London Borough of Bexley" in "\n".join(lines)


def test_a_stage_3_case_letter_goes_to_the_body_named(register: CaseRegister, tmp_path: Path) -> None:
    route_thread(register, "a1.eml", "a2.eml", "a3.eml")
    with pytest.raises(ComplianceError) as refused:
        write_case_letter(register, "BXC-2026-0001", tmp_path / "none", ["docx"])
    assert {f.code for f in refused.value.report.errors} == {"REFERRAL"}  # type: ignore[attr-defined]
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"],
                               referred_to=["vcs-governing-board", "strategic-commissioning-board"])
    lines = _docx_lines(result.files[0])
    assert "The Chair, governing board of Bexley Age Well" in lines
    assert "The Chair, Strategic Commissioning Board" in lines
    assert "Dear Chairs," in lines


def test_unknown_case(register: CaseRegister) -> None:
    with pytest.raises(RegisterError, match="no case"):
        escalation_data(register, "BXC-2026-0404")


def test_docxtpl_escapes_in_an_email_print_literally_in_the_case_letter(register: CaseRegister,
                                                                       tmp_path: Path) -> None:
    hostile = HOSTILE_LETTERS / "docxtpl-escapes.eml"
    route_message(hostile.read_bytes(), CONFIG, register)
    result = write_case_letter(register, "BXC-2026-0001", tmp_path / "out", ["docx"])
    text = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "Our portal lists them as {_{ returns }_} and {_% overdue %_}." in text
