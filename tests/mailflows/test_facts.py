"""Facts from a message: automatic mail (RFC 3834), a reply's own words, subjects, the case it joins."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from testdata import MAIL

from compact_docs.register.cases import CaseRegister
from mailflows.config import require_config
from mailflows.facts import automatic_reasons, clean_subject, extract_facts, find_case, own_words
from mailflows.parsing import ParsedMessage, parse_message
from mailflows.route import classify

CONFIG = require_config(MAIL / "compact.toml")


def parsed(name: str, folder: str = "messages") -> ParsedMessage:
    return parse_message((MAIL / folder / name).read_bytes())


@pytest.mark.parametrize(("name", "reason"), [
    ("21-auto-submitted-ooo.eml", "Auto-Submitted: auto-replied"),
    ("22-x-autoreply.eml", "X-Autoreply present"),
    ("23-exchange-automatic-reply.eml", "its subject is an automatic one ('Automatic reply: "),
    ("24-bounce-dsn.eml", "delivery-status or read report"),
    ("25-postmaster-undeliverable.eml", "sent by a mail system"),
    ("27-precedence-bulk.eml", "Precedence: bulk"),
    ("28-empty-return-path.eml", "empty Return-Path"),
    ("29-auto-generated.eml", "Auto-Submitted: auto-generated"),
    ("30-precedence-junk.eml", "Precedence: junk"),
])
def test_automatic_mail(name: str, reason: str) -> None:
    assert any(reason in r for r in automatic_reasons(parsed(name)))


def test_list_and_suppression_headers_alone_are_not_automatic() -> None:
    # Exchange adds X-Auto-Response-Suppress to people's mail sent through distribution lists,
    # and BVSC's own address may be a group that adds List-Id: hints, never marks.
    raw = (MAIL / "messages" / "01-late-payment.eml").read_bytes()
    for header in (b"X-Auto-Response-Suppress: All", b"List-Id: <disputes.bvsc.example>",
                   b"Precedence: list"):
        message = parse_message(header + b"\r\n" + raw)
        assert automatic_reasons(message) == []
        facts = extract_facts(message, CONFIG)
        assert facts.list_hints and not facts.newsletter and not facts.automatic


def test_auto_submitted_no_is_a_person() -> None:
    assert automatic_reasons(parsed("31-auto-submitted-no.eml")) == []
    assert automatic_reasons(parsed("01-late-payment.eml")) == []


def test_own_words_drop_quoted_text() -> None:
    text = parsed("46-quoted-old-complaint.eml").text
    assert "complaints" in text
    assert own_words(text).split() == ["Thanks,", "see", "you", "on", "Tuesday."]  # 'Jo': a signature
    outlook = "Please escalate.\n\nFrom: BVSC <d@bvsc.example>\nSent: 2 December\nSubject: x\nold"
    assert own_words(outlook).strip() == "Please escalate."
    assert own_words("New.\n-----Original Message-----\nOld").strip() == "New."
    wrapped = "Still unresolved.\n\nOn Wed, 18 Nov 2026 at 09:05, BVSC Disputes <\nd@bvsc.example> wrote:\nold"
    assert own_words(wrapped).strip() == "Still unresolved."


@pytest.mark.parametrize(("subject", "clean"), [
    ("Re: [BXC-2026-0001] Unpaid invoice", "Unpaid invoice"),
    ("RE: Fwd: [vcs-forum] Late payment", "Late payment"),
    ("Monitoring [BXC-2026-0007]", "Monitoring"),
    ("AW: Re[2]: Grant", "Grant"),
])
def test_clean_subject(subject: str, clean: str) -> None:
    assert clean_subject(subject) == clean


def test_facts_of_a_new_dispute() -> None:
    facts = extract_facts(parsed("10-already-raised.eml"), CONFIG)
    assert facts.organisation == "Bexley Age Well" and facts.commissioned is True
    assert facts.dispute and facts.tried_informal and facts.case is None
    assert "matched by domain agewell.example" in facts.notes[0]


def test_facts_of_an_unknown_sender() -> None:
    facts = extract_facts(parsed("16-unknown-sender.eml"), CONFIG)
    assert facts.organisation is None and facts.commissioned is None
    assert "unknown organisation" in facts.notes[0]


def test_case_found_by_subject_reference_and_by_thread(tmp_path: Path) -> None:
    clock = lambda: datetime(2026, 11, 24, tzinfo=UTC)  # noqa: E731
    with CaseRegister(tmp_path / "c.db", CONFIG.compact_profile, clock=clock) as register:
        ref = register.open_case(organisation="Crayford Community Larder", commissioned=True, stage=1,
                                 topic="Unpaid invoice", actor="t", reason="r",
                                 message_id="<thread-b1@crayfordlarder.example>")
        case, how, _ = find_case(parsed("b2.eml", "threads"), CONFIG, register)
        assert case is not None and case.ref == ref.ref == "BXC-2026-0001"
        assert how == "subject carries [BXC-2026-0001]"
        register.open_case(organisation="Bexley Age Well", commissioned=True, stage=1, topic="m",
                           actor="t", reason="r", message_id="<thread-a1@mail.agewell.example>")
        case, how, _ = find_case(parsed("a2.eml", "threads"), CONFIG, register)
        assert case is not None and case.ref == "BXC-2026-0002"
        assert how == "its In-Reply-To names a message on the case"
        case, how, notes = find_case(parsed("43-ref-not-in-register.eml"), CONFIG, register)
        assert case is None and "[BXC-2026-0099], which is not in the register" in notes[0]


def test_facts_carry_the_sender_and_the_case_side(tmp_path: Path) -> None:
    clock = lambda: datetime(2026, 11, 24, tzinfo=UTC)  # noqa: E731
    with CaseRegister(tmp_path / "c.db", CONFIG.compact_profile, clock=clock) as register:
        register.open_case(organisation="Sidcup Youth Arts", commissioned=False, stage=2,
                           topic="Lettings", actor="t", reason="r",
                           message_id="<thread-c1@sidcupyoutharts.example>",
                           sender="lena@sidcupyoutharts.example")
        reply = extract_facts(parsed("reply-tried-informal-at-stage-2.eml", "scenarios"), CONFIG,
                              register)
        assert reply.case is not None and reply.case.sender == "lena@sidcupyoutharts.example"
        assert (reply.sender, reply.sender_organisation) == ("lena@sidcupyoutharts.example",
                                                             "Sidcup Youth Arts")
        assert reply.tried_informal and reply.escalation == ()  # 'got nowhere' tells of the council
        stranger = extract_facts(parsed("stranger-asks-to-escalate.eml", "scenarios"), CONFIG,
                                 register)
        assert stranger.case is not None and stranger.case.ref == "BXC-2026-0001"
        assert stranger.sender == "m.rowe@shootershill-residents.example"
        assert stranger.sender_organisation is None
        assert stranger.organisation == "Sidcup Youth Arts"  # the case's, for the decision
        assert stranger.escalation


def _internal(sender: str, to: str, **headers: str) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", "Subject: Age Well's grant",
             "Message-ID: <internal@bvsc.example>", *(f"{k}: {v}" for k, v in headers.items()), "",
             "The council has cut Age Well's grant by a fifth. Can we talk about it at Tuesday's meeting?"]
    return "\r\n".join(lines).encode()


def test_a_colleagues_own_mail_goes_to_a_person_not_a_stage() -> None:
    decision = classify(parse_message(_internal("Jo Whitcombe <jo@bvsc.example>", "disputes@bvsc.example")), CONFIG)
    assert decision.disposition == "needs-triage"
    assert any("from a colleague" in r and "bvsc.example" in r for r in decision.reasons)


def test_a_group_writing_to_itself_is_not_a_colleague() -> None:
    raw = _internal("Bexley VCS forum <forum@googlegroups.example>", "forum@googlegroups.example",
                    **{"List-Id": "<forum.googlegroups.example>"})
    assert extract_facts(parse_message(raw), CONFIG).colleague is None


def test_the_configured_mailbox_names_its_own_domain() -> None:
    # The test configuration sends from disputes@bvsc.example: its domain is the mailbox's own.
    assert CONFIG.own_domains == frozenset({"bvsc.example"})
    facts = extract_facts(parse_message(_internal("Jo <jo@bvsc.example>", "claire@elsewhere.example")), CONFIG)
    assert facts.colleague and "own organisation" in facts.colleague


def test_without_a_configured_mailbox_the_domain_written_to_tells_a_colleague() -> None:
    config = CONFIG.model_copy(update={"mail": CONFIG.mail.model_copy(update={"smtp": None})})
    assert config.own_domains == frozenset()
    facts = extract_facts(parse_message(_internal("Jo <jo@bvsc.example>", "disputes@bvsc.example")), config)
    assert facts.colleague and "domain it wrote to" in facts.colleague
    facts = extract_facts(parse_message(_internal("Jo <jo@bvsc.example>", "claire@elsewhere.example")), config)
    assert facts.colleague is None


def test_a_form_on_the_mailboxs_own_site_relays_the_organisation_in_its_reply_to() -> None:
    config = CONFIG.model_copy(update={"mail": CONFIG.mail.model_copy(update={"smtp": None})})
    raw = _internal("BVSC website <enquiries@bvsc.example>", "disputes@bvsc.example",
                    **{"Reply-To": "Jo Smith <jo.smith@agewell.example>"})
    facts = extract_facts(parse_message(raw), config)
    assert facts.colleague is None
    assert facts.organisation == "Bexley Age Well"
    assert any("relayed by enquiries@bvsc.example" in n for n in facts.notes)


def _plain(subject: str, body: str, sender: str = "Marcus Lee <marcus@wellingfoodbank.example>") -> ParsedMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "disputes@bvsc.example", subject
    msg["Message-ID"] = "<names-issue@wellingfoodbank.example>"
    msg.set_content(body)
    return parse_message(msg.as_bytes())


def test_an_organisation_naming_a_compact_issue_in_its_own_words_is_a_dispute() -> None:
    message = _plain("Unpaid invoice attached", "Hello,\n\nThe attached invoice is still unpaid after 45 days.\n"
                     "Could you help us chase it?\n\nMarcus")
    assert extract_facts(message, CONFIG).names_issue
    decision = classify(message, CONFIG)
    assert decision.disposition == "stage-1"
    assert any("an issue the Compact's process is for" in r for r in decision.reasons) or any(
        r.startswith("reads as a dispute") for r in decision.reasons)


def test_a_thank_you_whose_subject_names_the_issue_does_not_name_it() -> None:
    message = _plain("RE: Q2 invoices overdue", "Hi Jo,\n\nJust to let you know both invoices were paid this "
                     "morning. Thank you so much for chasing.\n\nMarcus")
    assert not extract_facts(message, CONFIG).names_issue


def test_a_personal_complaint_from_an_unknown_sender_is_weighed_not_taken_as_a_dispute() -> None:
    resident = _plain("Food bank queue", "I wish to make a formal complaint about the queue outside the food bank "
                      "on Thursdays, which blocks my drive.", sender="Alan Pike <alan.pike@btinternet.example>")
    assert not any("says outright" in r for r in classify(resident, CONFIG).reasons)
    # the subject's 'formal complaint' is the same words as the sender's own 'I wish to make a formal complaint'
    treated = _plain("Formal complaint", "I wish to make a formal complaint about the way I was treated at the "
                     "centre on Friday.", sender="Mary Cole <mary.cole@btinternet.example>")
    assert not any("says outright" in r for r in classify(treated, CONFIG).reasons)
    group = _plain("Hall charges", "We wish to make a formal complaint about the new hall charges for small groups.",
                   sender="Men's Shed <hello@mensshed.example>")
    assert any("says outright" in r for r in classify(group, CONFIG).reasons)


def test_words_in_another_language_with_no_english_lines_are_marked_for_the_surer_confidence() -> None:
    polish = ("Dzień dobry, piszę w imieniu banku żywności. Płatność za fakturę z września nadal nie wpłynęła "
              "na nasze konto, chociaż minęło już sześć tygodni. Bardzo proszę o pomoc w tej sprawie.")
    assert extract_facts(_plain("Faktura", polish), CONFIG).other_language
    glossed = _plain("Faktura / September invoice not paid", polish + "\nIn English: our September invoice is "
                     "still unpaid after six weeks and we need help.")
    assert not extract_facts(glossed, CONFIG).other_language
    assert not extract_facts(_plain("Invoice", "Our September invoice is still unpaid after six weeks."),
                             CONFIG).other_language
