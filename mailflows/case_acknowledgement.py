"""Acknowledgements of a caseworker's decision: a case moved to a new stage, or closed, told to the organisation."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from compact_docs.register import Case, CaseRegister
from mailflows.config import MailConfig
from mailflows.outbox import Outbox, QueuedAcknowledgement

CHANGES = ("escalated", "closed")


def case_change_text(case: Case, config: MailConfig) -> str:
    """The body: the new stage and what happens next, or the outcome, in the profile's words."""
    profile = config.compact_profile
    register_body = profile.body(profile.dispute.register_body)
    signed = register_body.name if register_body else profile.short_name
    if case.status == "closed":
        body = [f"Case {case.ref} ({case.topic}) is now closed.",
                f"Outcome: {case.outcome or 'not recorded'}.",
                f"If the issue comes back, reply to this message keeping [{case.ref}] in the subject "
                "and a caseworker will look at it again."]
    else:
        stage = profile.stage(case.stage)
        body = [f"Case {case.ref} ({case.topic}) has moved to stage {stage.number} of the "
                f"{profile.name}'s conflict-resolution process: {stage.name} ({profile.cite(stage.clause)}).",
                stage.summary, "What happens next: " + stage.next_steps,
                f"Please keep [{case.ref}] in the subject of any reply."]
    return "\n\n".join([*body, signed]) + "\n"


def build_case_acknowledgement(register: CaseRegister, case: Case, config: MailConfig, *,
                               now: datetime | None = None) -> tuple[EmailMessage | None, str | None]:
    """The message telling a case's organisation of its new stage or outcome, or why there is none.

    It goes to the address that raised the case, threads under the case's messages, and is
    marked `Auto-Submitted: auto-generated` (RFC 3834) so robots do not answer it. The
    commissioner is copied only when ``[mail.acknowledgements] copy_commissioner`` is true.
    """
    smtp = config.mail.smtp
    if smtp is None:
        return None, "no acknowledgement: no [mail.smtp] table in the configuration"
    if not case.sender:
        return None, f"no acknowledgement: case {case.ref} has no address to write to"
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = case.sender
    entry = config.organisation_named(case.organisation)
    if config.mail.acknowledgements.copy_commissioner and entry is not None and entry.commissioner:
        message["Cc"] = entry.commissioner
    message["Subject"] = f"Re: {case.topic} [{case.ref}]"
    message["Date"] = format_datetime(now or datetime.now().astimezone())
    domain = smtp.sender.rsplit("@", 1)[-1] if "@" in smtp.sender else None
    message["Message-ID"] = make_msgid(domain=domain)
    thread = [m for m in case.message_ids if not m.endswith("@compact-docs>")]
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread[-20:])
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(case_change_text(case, config))
    return message, None


def acknowledge_case_change(register: CaseRegister, ref: str, config: MailConfig,
                            outbox: Outbox | None = None) -> tuple[QueuedAcknowledgement | None, str | None]:
    """Queue the acknowledgement of a case's new stage or outcome (inside the caller's transaction).

    Returns the queued entry, or None and why none was queued. `mail watch`, or `deliver`, sends it.
    """
    case = register.require_case(ref)
    message, why_not = build_case_acknowledgement(register, case, config)
    if message is None:
        return None, why_not
    return (outbox or Outbox(register)).queue(message, case.ref), None
