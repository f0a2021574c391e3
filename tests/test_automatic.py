"""Automatic mail: marks that ignore a message on their own, and hints that do not."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailflows.automatic import automatic_reasons, is_newsletter, list_hints
from mailflows.config import require_config
from mailflows.parsing import parse_message
from mailflows.route import classify

MAIL = Path(__file__).resolve().parent / "data" / "mail"
CONFIG = require_config(MAIL / "compact.toml")


def message(subject: str, body: str = "Our invoice is five weeks late.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jo Smith <jo.smith@agewell.example>"
    msg["To"] = "disputes@bvsc.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<auto-test@agewell.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize("subject", [
    "Automatic reply: Q2 payment", "Out of Office: Q2 payment", "Out of office AutoReply: grant",
    "Abwesenheitsnotiz: Zahlung", "Réponse automatique : paiement", "Odpowiedź automatyczna: płatność",
    "Ateb awtomatig: taliad", "Autosvar: betaling", "Auto-reply: invoice", "RE: Automatic reply: x",
    "Ticket Received - Query regarding Q3 invoice", "Accepted: Compact meeting",
])
def test_an_auto_reply_marked_only_by_its_subject_is_ignored(subject: str) -> None:
    parsed = parse_message(message(subject, "I am away until Monday."))
    assert automatic_reasons(parsed), subject
    assert classify(parsed, CONFIG).disposition == "ignored"


@pytest.mark.parametrize("subject", ["Out of office hours service cut", "Reading group room",
                                     "Automatically renewed contract ended early"])
def test_a_persons_subject_is_not_an_auto_reply(subject: str) -> None:
    assert automatic_reasons(parse_message(message(subject))) == []


@pytest.mark.parametrize("headers", [
    {"X_Auto_Response_Suppress": "All"}, {"List_Id": "<disputes.bvsc.example>"},
    {"Precedence": "list", "List_Id": "<group.bvsc.example>"},
])
def test_hints_alone_leave_a_persons_dispute_routed_but_not_acknowledged(headers: dict[str, str]) -> None:
    parsed = parse_message(message("Q2 payment", "Our Q2 payment is now five weeks late.", **headers))
    assert automatic_reasons(parsed) == [] and list_hints(parsed)
    decision = classify(parsed, CONFIG)
    assert decision.disposition == "stage-1", decision.reasons
    assert decision.acknowledge is False


def test_a_newsletter_is_ignored_but_a_person_writing_through_a_list_is_not() -> None:
    hints = ["List-Id present", "List-Unsubscribe present"]
    assert is_newsletter(hints, "vcs-forum-request@lists.bvsc.example", known_sender=False)
    assert is_newsletter(hints, "news@charityweekly.example", known_sender=False)
    assert not is_newsletter(hints, "jo.smith@agewell.example", known_sender=True)
    assert not is_newsletter(["List-Id present"], "forum@lists.bvsc.example", known_sender=False)
    digest = classify(parse_message((MAIL / "messages" / "26-mailing-list.eml").read_bytes()), CONFIG)
    assert digest.disposition == "ignored" and "newsletter or digest" in digest.reasons[-1]
