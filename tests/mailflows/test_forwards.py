"""Forwards: the forwarded message and its original sender, inline or attached."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from testdata import MAIL

from mailflows.config import require_config
from mailflows.forwards import find_forward
from mailflows.parsing import parse_message
from mailflows.route import classify

CONFIG = require_config(MAIL / "compact.toml")


def message(subject: str, body: str, sender: str = "alex.officer@bexley.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Alex Officer <{sender}>"
    msg["To"] = "disputes@bvsc.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<fw-test@bexley.example>"
    msg.set_content(body)
    return msg.as_bytes()


GMAIL = """FYI, see below from the Larder - can BVSC pick this up?

Alex

---------- Forwarded message ---------
From: Priya Shah <priya@crayfordlarder.example>
Date: Mon, 2 Nov 2026 at 09:00
Subject: Q2 payment
To: <commissioning@bexley.example>


Our Q2 payment is now five weeks late and we cannot pay the cook.

Best wishes
Priya
"""

OUTLOOK = """Forwarding this one to you.

Alex Officer
Head of Service

From: Priya Shah <priya@crayfordlarder.example>
Sent: 02 November 2026 09:00
To: Commissioning <commissioning@bexley.example>
Subject: Q2 payment

Our Q2 payment is now five weeks late and we cannot pay the cook.

Many thanks
Priya
"""


def test_an_attached_forward_is_decided_on_the_forwarded_message() -> None:
    parsed = parse_message((MAIL / "messages" / "44-forwarded-dispute.eml").read_bytes())
    forward = find_forward(parsed)
    assert forward is not None and forward.how == "attached"
    assert forward.sender_address == "priya@crayfordlarder.example"
    assert "INV-0931 has not been paid" in forward.text and "INV-0931" not in parsed.text
    decision = classify(parsed, CONFIG)
    assert (decision.disposition, decision.organisation) == ("stage-1", "Crayford Community Larder")
    assert any("a forward (attached) by commissioning@bexley.example of a message from Priya Shah"
               in r for r in decision.reasons)
    assert decision.acknowledge_to == "priya@crayfordlarder.example"


def test_gmail_and_outlook_inline_forwards() -> None:
    for subject, body in (("Fwd: Q2 payment", GMAIL), ("FW: Q2 payment", OUTLOOK)):
        parsed = parse_message(message(subject, body))
        forward = find_forward(parsed)
        assert forward is not None and forward.how == "inline", subject
        assert forward.sender_address == "priya@crayfordlarder.example"
        assert forward.text.startswith("Our Q2 payment is now five weeks late")
        decision = classify(parsed, CONFIG)
        assert decision.organisation == "Crayford Community Larder", decision.reasons
        assert decision.disposition == "stage-1", decision.reasons
        assert not any("head of service" in r.lower() for r in decision.reasons)


def test_a_reply_with_an_outlook_block_is_not_a_forward() -> None:
    body = OUTLOOK.replace("Forwarding this one to you.", "Thanks, that is helpful.")
    assert find_forward(parse_message(message("RE: Q2 payment", body))) is None


def test_nobody_is_acknowledged_when_neither_sender_is_known() -> None:
    body = GMAIL.replace("priya@crayfordlarder.example", "k.lambert@hotmail.example")
    decision = classify(parse_message(message("Fwd: Q2 payment", body, "someone@elsewhere.example")),
                        CONFIG)
    assert decision.organisation is None
    assert decision.acknowledge is False and decision.acknowledge_to is None
    assert any("nobody is acknowledged automatically" in r for r in decision.reasons)


def test_a_commissioners_forward_of_an_unknown_groups_complaint_is_decided_on_what_the_group_wrote() -> None:
    # a council officer passes on a residents' forum (not in the directory): an unknown organisation at
    # stage 2, not the officer's own problem, and nobody acknowledged automatically
    body = GMAIL.replace("Priya Shah <priya@crayfordlarder.example>", "Lamorbey Forum <lamorbeyforum@gmail.example>")
    decision = classify(parse_message(message("Fwd: Q2 payment", body)), CONFIG)
    assert decision.disposition == "stage-2" and decision.organisation is None
    assert decision.acknowledge is False
    # a colleague's message passed on by a commissioner stays on the commissioners' side
    colleague = GMAIL.replace("Priya Shah <priya@crayfordlarder.example>", "Jo Finance <jo.finance@bexley.example>")
    assert classify(parse_message(message("Fwd: Q2 payment", colleague)), CONFIG).disposition == "needs-triage"


_BOUNCE = ("---------- Forwarded message ---------\nFrom: Mail Delivery Subsystem <mailer-daemon@googlemail.example>\n"
           "Date: Mon, 2 Nov 2026 at 09:00\nSubject: Delivery Status Notification (Failure)\n"
           "To: <{sender}>\n\nAddress not found. Your message wasn't delivered.\n")


@pytest.mark.parametrize(("sender", "note", "returned", "said"), [
    # the forwarder's note tells the problem
    ("tomasz@polishschool.example", "This is the third time my email to the council has bounced, and our hall "
     "hire refund is still unpaid after two months. Please help.\n\nTomasz", "",
     "decided on the forwarder's own words"),
    # the note only says 'see below': the returned message, the forwarder's own, tells it
    ("dorothy@belvederelunch.example", "this bounced, resending. Please see my email at the bottom. Dorothy",
     "\n----- Original message -----\n\nFrom: Dorothy Pike <dorothy@belvederelunch.example>\n"
     "Date: Fri, 4 Sep 2026 16:51:02 +0100\nSubject: Our hall\nTo: disputes@bvsc.exmaple\n\nDear Sir or Madam,\n\n"
     "The council has let our Tuesday hall to a private nursery from October and our lunch club of forty "
     "pensioners has nowhere to go. We were given two weeks' notice.\n", "and their message it returned"),
])
def test_a_forwarded_bounce_is_decided_on_the_forwarders_words(sender: str, note: str, returned: str,
                                                               said: str) -> None:
    body = f"{note}\n\n{_BOUNCE.format(sender=sender)}{returned}"
    decision = classify(parse_message(message("Fwd: Delivery Status Notification (Failure)", body, sender=sender)),
                        CONFIG)
    assert any("a machine's mail" in r and said in r for r in decision.reasons), decision.reasons
    assert decision.disposition == "stage-2", decision.reasons


def test_a_web_form_relaying_an_organisation_is_decided_as_that_organisation() -> None:
    raw = message("Website enquiry", "Name: Jo Smith\nOrganisation: Age Well\n\nOur Q2 payment is five weeks late.",
                  sender="wordpress@bvsc.example")
    raw = raw.replace(b"Message-ID:", b"Reply-To: Jo Smith <jo.smith@agewell.example>\nMessage-ID:")
    decision = classify(parse_message(raw), CONFIG)
    assert decision.disposition == "stage-1", decision.reasons
    assert any("relayed by wordpress@bvsc.example" in r for r in decision.reasons)
    assert decision.acknowledge is False
