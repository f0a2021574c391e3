"""Acknowledgements: the reply each routed dispute gets, saying what happens next at its stage."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from compact_docs.errors import MailError
from compact_docs.profile import Profile
from mailflows.config import MailConfig
from mailflows.facts import clean_subject
from mailflows.parsing import ParsedMessage
from mailflows.route import RoutingDecision


def acknowledgement_subject(decision: RoutingDecision, parsed: ParsedMessage) -> str:
    """'Re: <topic> [BXC-2026-0007]': the case reference travels in brackets so replies thread."""
    topic = clean_subject(parsed.subject) or "your message"
    subject = f"Re: {topic}"
    return f"{subject} [{decision.case_ref}]" if decision.case_ref else subject


def acknowledgement_text(decision: RoutingDecision, profile: Profile) -> str:
    """The body of the acknowledgement for a disposition, in the words of the profile's stages."""
    register_body = profile.body(profile.dispute.register_body)
    signed = register_body.name if register_body else profile.short_name
    greeting = "Thank you for your message."
    if decision.disposition == "needs-triage" or decision.stage is None:
        body = [
            greeting,
            "We have received it and a caseworker will read it and reply. It has not been "
            "recorded as a dispute under " + profile.named() + " yet.",
        ]
        if decision.case_ref:
            body.append(f"It concerns case {decision.case_ref}, which is closed; the caseworker "
                        "will decide whether to reopen it.")
    else:
        stage = profile.stage(decision.stage)
        moved = decision.action == "escalate"
        opened = decision.action == "open"
        if opened:
            status = f"We have opened case {decision.case_ref} at stage {stage.number}"
        elif moved:
            status = f"Case {decision.case_ref} has moved to stage {stage.number}"
        else:
            status = f"We have added your message to case {decision.case_ref}, at stage {stage.number}"
        body = [
            greeting,
            f"{status} of {profile.named()}'s conflict-resolution process: {stage.name} "
            f"({profile.cite(stage.clause)}).",
            stage.summary,
            "What happens next: " + stage.next_steps,
            f"Please keep [{decision.case_ref}] in the subject of any reply.",
        ]
    body += ["", signed, "This is an automatic acknowledgement; please do not reply to it "
             "just to say thank you."]
    return "\n\n".join(body).replace("\n\n\n\n", "\n\n") + "\n"


def build_acknowledgement(decision: RoutingDecision, parsed: ParsedMessage,
                          config: MailConfig, *, sender: str | None = None,
                          now: datetime | None = None) -> EmailMessage | None:
    """The acknowledgement of one routed message, or None when none is due (ignored, already sent).

    It threads under the original (In-Reply-To, References) and is marked
    `Auto-Submitted: auto-replied` (RFC 3834) so other robots do not answer it.
    """
    if not decision.acknowledge or not decision.acknowledge_to or decision.already_recorded:
        return None
    from_address = sender or (config.mail.smtp.sender if config.mail.smtp else None)
    if not from_address:
        raise MailError("no address to send acknowledgements from: set `from` in [mail.smtp]")
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = decision.acknowledge_to
    message["Subject"] = acknowledgement_subject(decision, parsed)
    message["Date"] = format_datetime(now or datetime.now().astimezone())
    domain = from_address.rsplit("@", 1)[-1] if "@" in from_address else None
    message["Message-ID"] = make_msgid(domain=domain)
    if not parsed.message_id_generated:
        message["In-Reply-To"] = parsed.message_id
        message["References"] = " ".join((*parsed.references, parsed.message_id)[-20:])
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(acknowledgement_text(decision, config.compact_profile))
    return message
