"""The case commands' library side: cases worked with the configuration's directory and mail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from compact_docs.models import Voice
from compact_docs.register.case_letter import write_case_letter as write_letter
from compact_docs.register.cases import CaseRegister
from compact_docs.register.casework import correct_organisation, open_from_message, restage
from compact_docs.register.casework import merge_cases as merge
from compact_docs.register.deadlines import CaseDeadlines
from compact_docs.register.records import Case, caseworker
from compact_docs.rendering.renderer import FORMATS, RenderResult
from mailflows.config import MailConfig
from mailflows.outbox import Outbox, QueuedAcknowledgement
from mailflows.route import open_register


@dataclass(frozen=True)
class CaseChange:
    """A case after a caseworker's change, and the acknowledgement queued to tell its organisation
    (or why there is none)."""

    case: Case
    queued: QueuedAcknowledgement | None = None
    why_not: str | None = None


def _commissioned(config: MailConfig, organisation: str | None, commissioned: bool | None) -> bool | None:
    """Whether an organisation is commissioned: as given, else as the organisations directory says."""
    entry = config.organisation_named(organisation) if organisation else None
    return entry.commissioned if commissioned is None and entry is not None else commissioned


def open_case(config: MailConfig, message_id: str, *, organisation: str | None, commissioned: bool | None,
              stage: int | None, reason: str, actor: str | None = None) -> Case:
    """`cases open`: a case from a recorded message the router made none of (a correction)."""
    with open_register(config) as register:
        return open_from_message(register, message_id, organisation=organisation,
                                 commissioned=_commissioned(config, organisation, commissioned),
                                 stage=stage, actor=actor or caseworker(), reason=reason)


def restage_case(config: MailConfig, ref: str, *, stage: int | None, organisation: str | None,
                 commissioned: bool | None, reason: str, actor: str | None = None) -> Case:
    """`cases restage`: put a case at another stage, or right its organisation, or both (corrections)."""
    by = actor or caseworker()
    with open_register(config) as register, register.transaction():
        if organisation is not None:
            correct_organisation(register, ref, organisation, actor=by, reason=reason,
                                 commissioned=_commissioned(config, organisation, commissioned))
        if stage is not None:
            return restage(register, ref, stage, actor=by, reason=reason)
        return register.require_case(ref)


def merge_cases(config: MailConfig, ref: str, into: str, *, reason: str, actor: str | None = None) -> Case:
    """`cases merge`: a duplicate case into another, its acknowledgements with it."""
    with open_register(config) as register, register.transaction():
        case = merge(register, ref, into, actor=actor or caseworker(), reason=reason)
        Outbox(register).move_case(ref.strip().upper(), case.ref)
        return case


def escalate_case(config: MailConfig, ref: str, *, reason: str, actor: str | None = None,
                  quiet: bool = False) -> CaseChange:
    """`cases escalate`: move a case up a stage and queue the acknowledgement that tells its
    organisation (unless ``quiet``), together."""
    with open_register(config) as register, register.transaction():
        case = register.escalate(ref, actor=actor, reason=reason)
        return CaseChange(case, *_tell_organisation(register, config, case.ref, quiet))


def close_case(config: MailConfig, ref: str, *, outcome: str, actor: str | None = None,
               quiet: bool = False) -> CaseChange:
    """`cases close`: close a case with its outcome and queue its acknowledgement (unless ``quiet``)."""
    with open_register(config) as register, register.transaction():
        case = register.close_case(ref, actor=actor, outcome=outcome)
        return CaseChange(case, *_tell_organisation(register, config, case.ref, quiet))


def _tell_organisation(register: CaseRegister, config: MailConfig, ref: str,
                       quiet: bool) -> tuple[QueuedAcknowledgement | None, str | None]:
    if quiet:
        return None, "no acknowledgement (--quiet)"
    from mailflows.case_acknowledgement import acknowledge_case_change

    return acknowledge_case_change(register, ref, config)


def send_now(config: MailConfig, change: CaseChange) -> str | None:
    """Try to send a change's acknowledgement at once; what happened to it, in a sentence."""
    queued = change.queued
    if queued is None:
        return change.why_not.capitalize() + "." if change.why_not else None
    from mailflows.connections import smtp_account
    from mailflows.outbox import Outbox, deliver

    account = smtp_account(config)
    assert account is not None
    with open_register(config) as register:
        deliver(Outbox(register), account)
        entry = Outbox(register).by_message_id(queued.message_id)
    to = ", ".join(queued.recipients)
    if entry is not None and entry.sent:
        return f"Acknowledgement sent to {to}."
    because = f" ({entry.last_error})" if entry is not None and entry.last_error else ""
    return f"Acknowledgement to {to} queued; `compact-docs mail watch` sends it{because}."


def write_case_letter(config: MailConfig, ref: str, out_dir: str | Path = ".",
                      formats: Iterable[str] = FORMATS, *, policy_decision: str | None = None,
                      asks: Iterable[str] = (), organisation: str | None = None,
                      force: bool = False, voice: Voice = "dispute-body",
                      referred_to: Iterable[str] = ()) -> RenderResult:
    """`cases letter`: the escalation letter for a case's current stage.

    It goes to the commissioner the organisations directory names for the case's organisation
    (or for ``organisation``, which names the writer of a case the router could not place), in
    the dispute body's voice unless ``voice="organisation"``; at stage 3 to the bodies
    ``referred_to`` names.
    """
    with open_register(config, readonly=True) as register:
        case = register.require_case(ref)
        entry = config.organisation_named(organisation or case.organisation)
        return write_letter(
            register, case.ref, out_dir, formats,
            commissioner=entry.commissioner if entry else None,
            commissioner_body=entry.commissioner_body if entry else None,
            policy_decision=policy_decision, asks=asks, force=force, organisation=organisation,
            voice=voice, referred_to=referred_to)


def deadlines(config: MailConfig) -> CaseDeadlines:
    """The configuration's [cases.deadlines], counted in its profile's working days and time zone."""
    return CaseDeadlines.for_profile(config.compact_profile, config.cases.deadline_days())
