"""The caseworker's workbench: triage, corrections of the router, merges, reopenings, notes and owners.

Every change is an event with who made it and why. A correction (a case opened from a message, a
message attached, a case moved up or down a stage, by command or by moving mail in the mailbox)
is also kept with the message it corrects, as its corrected disposition, for `mail train`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from compact_docs.errors import RegisterError
from compact_docs.profile import Profile
from compact_docs.register import Case, CaseRegister, RecordedMessage

VIA_COMMAND = "command"
VIA_MAILBOX = "mailbox"
MOVED_IN_THE_MAILBOX = "moved in the mailbox"
"""The actor of a correction a person made by moving a message between folders."""


def disposition_of(stage: int) -> str:
    """The disposition that files a message at a stage: 'stage-2'."""
    return f"stage-{stage}"


def entry_stage(profile: Profile, commissioned: bool | None) -> int:
    """The stage a new case opens at: the informal stage for a commissioned organisation, else the
    first stage any organisation enters (the Compact: non-commissioned organisations skip stage 1)."""
    for stage in profile.dispute.stages:
        if stage.entry == "any" or (stage.entry == "commissioned" and commissioned):
            return stage.number
    return profile.dispute.stages[0].number


def triage_queue(register: CaseRegister) -> list[RecordedMessage]:
    """Messages waiting for a person: routed to needs-triage, on no case yet; oldest first."""
    rows = register.execute(
        "SELECT message_id FROM messages m WHERE disposition = 'needs-triage' AND NOT EXISTS "
        "(SELECT 1 FROM case_messages c WHERE c.message_id = m.message_id) "
        "ORDER BY COALESCE(received, recorded), recorded").fetchall()
    found = [register.recorded_message(row[0]) for row in rows]
    return [m for m in found if m is not None]


def _require_message(register: CaseRegister, message_id: str) -> RecordedMessage:
    message_id = message_id.strip()
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    found = register.recorded_message(message_id)
    if found is None:
        raise RegisterError(f"no message {message_id} in the register {register.path} "
                            "(`compact-docs cases triage` lists those waiting)")
    return found


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise RegisterError(f"{what} needs a reason (--reason)")
    return reason.strip()


def _owner_of(register: CaseRegister, message_id: str) -> str | None:
    row = register.execute("SELECT ref FROM case_messages WHERE message_id = ?", (message_id,)).fetchone()
    return str(row[0]) if row else None


def _correct_message(register: CaseRegister, message: RecordedMessage, ref: str, stage: int, *,
                     actor: str, reason: str, via: str, at: str) -> None:
    """Keep a correction with the message: its new disposition, the router's own kept once."""
    disposition = disposition_of(stage)
    register.execute(
        "UPDATE messages SET routed_disposition = COALESCE(routed_disposition, disposition), "
        "disposition = ?, stage = ?, case_ref = ? WHERE message_id = ?",
        (disposition, stage, ref, message.message_id))
    register.add_event(ref, "correction", stage, actor, reason, message.message_id, at,
                       disposition=disposition, previous=message.disposition, via=via)


def open_from_message(register: CaseRegister, message_id: str, *, organisation: str | None,
                      commissioned: bool | None, stage: int | None = None, actor: str, reason: str,
                      via: str = VIA_COMMAND) -> Case:
    """Open a case from a recorded message that is on no case (a triaged or ignored one).

    The stage defaults to the entry stage for the organisation; a person may open a case at any
    stage of the profile. The case's dates are the message's.
    """
    reason = _reason(reason, "opening a case")
    with register.transaction():
        message = _require_message(register, message_id)
        owner = _owner_of(register, message.message_id)
        if owner is not None:
            raise RegisterError(f"message {message.message_id} is already on case {owner}; "
                                f"use `cases restage {owner}` or `cases merge`")
        organisation = organisation if organisation is not None else message.organisation
        if commissioned is None and organisation == message.organisation:
            commissioned = message.commissioned
        chosen = stage if stage is not None else entry_stage(register.profile, commissioned)
        register.profile.stage(chosen)  # an unknown stage is refused here
        case = register.open_case(
            organisation=organisation, commissioned=commissioned, stage=chosen,
            topic=_topic(message), actor=actor, reason=reason, message_id=message.message_id,
            sender=message.sender, received=message.received, check_entry=False)
        _correct_message(register, message, case.ref, chosen, actor=actor, reason=reason, via=via,
                         at=register.now())
        return register.require_case(case.ref)


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr|sv|vs)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_BRACKETED_REF = re.compile(r"\s*\[[A-Z]{2,10}-\d{4}-\d{4,}\]\s*", re.IGNORECASE)


def _topic(message: RecordedMessage) -> str:
    """A case's topic from a message's subject: without Re:/Fwd: and a bracketed case reference."""
    subject = _BRACKETED_REF.sub(" ", _REPLY_PREFIX.sub("", message.subject)).strip()
    return subject or "(no subject)"


def attach_message(register: CaseRegister, message_id: str, ref: str, *, actor: str, reason: str,
                   via: str = VIA_COMMAND) -> Case:
    """Add a recorded message that is on no case to a case (the router did not see that it belongs)."""
    reason = _reason(reason, "attaching a message")
    with register.transaction():
        message = _require_message(register, message_id)
        case = register.require_case(ref)
        owner = _owner_of(register, message.message_id)
        if owner == case.ref:
            raise RegisterError(f"message {message.message_id} is already on case {case.ref}")
        if owner is not None:
            raise RegisterError(f"message {message.message_id} is on case {owner}; to bring the two "
                                f"cases together: compact-docs cases merge {owner} --into {case.ref}")
        if case.merged_into:
            raise RegisterError(f"case {case.ref} was merged into {case.merged_into}; attach to that")
        register.join_case(case.ref, message.message_id, actor=actor, reason=reason,
                           subject=message.subject, sender=message.sender, received=message.received)
        _correct_message(register, message, case.ref, case.stage, actor=actor, reason=reason, via=via,
                         at=register.now())
        return register.require_case(case.ref)


def deciding_message(register: CaseRegister, ref: str) -> RecordedMessage | None:
    """The message whose routing put a case at its stage: the latest to open, escalate or correct it."""
    row = register.execute(
        "SELECT message_id FROM events WHERE ref = ? AND message_id IS NOT NULL AND kind IN "
        "('opened', 'escalated', 'correction') ORDER BY id DESC LIMIT 1", (ref,)).fetchone()
    if row is not None:
        return register.recorded_message(row[0])
    return register.first_message(ref)


def restage(register: CaseRegister, ref: str, stage: int, *, actor: str, reason: str,
            via: str = VIA_COMMAND, message_id: str | None = None) -> Case:
    """Move an open case to another stage, up or down: a correction of the router.

    The correction is kept with ``message_id`` (the message a person moved), else with the
    message whose routing put the case at its stage.
    """
    reason = _reason(reason, "restaging a case")
    register.profile.stage(stage)
    with register.transaction():
        case = register.require_case(ref)
        if case.status != "open":
            raise RegisterError(f"case {case.ref} is {case.status}; reopen it first: "
                                f"compact-docs cases reopen {case.ref} --reason ...")
        if case.stage == stage:
            raise RegisterError(f"case {case.ref} is already at stage {stage}")
        at = register.now()
        register.execute("UPDATE cases SET stage = ?, updated = ?, stage_since = ? WHERE ref = ?",
                         (stage, at, at, case.ref))
        message = register.recorded_message(message_id) if message_id else deciding_message(register, case.ref)
        if message is not None:
            _correct_message(register, message, case.ref, stage, actor=actor, reason=reason, via=via, at=at)
        else:
            register.add_event(case.ref, "correction", stage, actor, reason, None, at,
                               disposition=disposition_of(stage), previous=disposition_of(case.stage),
                               via=via)
        return register.require_case(case.ref)


def correct_organisation(register: CaseRegister, ref: str, organisation: str, *, commissioned: bool | None,
                         actor: str, reason: str) -> Case:
    """Put right whose case it is (the router did not know the sender, or guessed wrong).

    Kept as a correction event without a disposition: the stage is not what changed.
    """
    reason = _reason(reason, "correcting the organisation")
    if not organisation.strip():
        raise RegisterError("name the organisation")
    with register.transaction():
        case = register.require_case(ref)
        at = register.now()
        register.execute("UPDATE cases SET organisation = ?, commissioned = ?, updated = ? WHERE ref = ?",
                         (organisation.strip(), None if commissioned is None else int(commissioned), at, case.ref))
        register.execute("UPDATE messages SET organisation = ?, commissioned = ? WHERE case_ref = ?",
                         (organisation.strip(), None if commissioned is None else int(commissioned), case.ref))
        was = case.organisation or f"unknown ({case.sender or 'no address'})"
        register.add_event(case.ref, "correction", case.stage, actor,
                           f"organisation {was} -> {organisation.strip()}: {reason}", None, at, via=VIA_COMMAND)
        return register.require_case(case.ref)


def correct_message(register: CaseRegister, message_id: str, stage: int, *, actor: str, reason: str,
                    via: str) -> Case:
    """Keep a correction with a message already on a case at that stage (nothing else changes)."""
    with register.transaction():
        message = _require_message(register, message_id)
        ref = _owner_of(register, message.message_id)
        if ref is None:
            raise RegisterError(f"message {message.message_id} is on no case")
        _correct_message(register, message, ref, stage, actor=actor, reason=reason, via=via,
                         at=register.now())
        return register.require_case(ref)


def merge_cases(register: CaseRegister, ref: str, into: str, *, actor: str, reason: str) -> Case:
    """Merge a duplicate case into another: its messages and history join the other, it is closed.

    The kept case takes the earlier date, and the duplicate's organisation when it had none.
    """
    reason = _reason(reason, "merging cases")
    with register.transaction():
        source, target = register.require_case(ref), register.require_case(into)
        if source.ref == target.ref:
            raise RegisterError(f"case {source.ref} cannot be merged into itself")
        for case in (source, target):
            if case.merged_into:
                raise RegisterError(f"case {case.ref} was already merged into {case.merged_into}")
        at = register.now()
        register.execute("UPDATE case_messages SET ref = ? WHERE ref = ?", (target.ref, source.ref))
        register.execute("UPDATE messages SET case_ref = ? WHERE case_ref = ?", (target.ref, source.ref))
        register.execute("UPDATE outbox SET case_ref = ? WHERE case_ref = ?", (target.ref, source.ref))
        received = min(d for d in (source.received, target.received, target.opened) if d)
        register.execute(
            "UPDATE cases SET received = ?, updated = ?, organisation = COALESCE(organisation, ?), "
            "commissioned = COALESCE(commissioned, ?), sender = COALESCE(sender, ?) WHERE ref = ?",
            (received, at, source.organisation,
             None if source.commissioned is None else int(source.commissioned), source.sender, target.ref))
        register.execute("UPDATE cases SET status = 'closed', outcome = ?, merged_into = ?, updated = ? "
                         "WHERE ref = ?", (f"Merged into {target.ref}", target.ref, at, source.ref))
        register.add_event(source.ref, "merged", source.stage, actor, f"merged into {target.ref}: {reason}",
                           None, at)
        register.add_event(target.ref, "merged", target.stage, actor, f"{source.ref} merged in: {reason}",
                           None, at)
        return register.require_case(target.ref)


def reopen_case(register: CaseRegister, ref: str, *, actor: str, reason: str) -> Case:
    """Reopen a closed case at the stage it closed at; its time at the stage starts again."""
    reason = _reason(reason, "reopening a case")
    with register.transaction():
        case = register.require_case(ref)
        if case.merged_into:
            raise RegisterError(f"case {case.ref} was merged into {case.merged_into}; reopen that one")
        if case.status != "closed":
            raise RegisterError(f"case {case.ref} is {case.status}, not closed")
        at = register.now()
        register.execute("UPDATE cases SET status = 'open', outcome = NULL, updated = ?, stage_since = ? "
                         "WHERE ref = ?", (at, at, case.ref))
        register.add_event(case.ref, "reopened", case.stage, actor, reason, None, at)
        return register.require_case(case.ref)


def add_note(register: CaseRegister, ref: str, text: str, *, actor: str) -> Case:
    """Add a note to a case's history."""
    if not text.strip():
        raise RegisterError("a note needs some text")
    with register.transaction():
        case = register.require_case(ref)
        at = register.now()
        register.add_event(case.ref, "note", case.stage, actor, text.strip(), None, at)
        register.execute("UPDATE cases SET updated = ? WHERE ref = ?", (at, case.ref))
        return register.require_case(case.ref)


def assign_case(register: CaseRegister, ref: str, person: str, *, actor: str, reason: str = "") -> Case:
    """Say who owns a case (who works it); the assignment is an event like any other."""
    if not person.strip():
        raise RegisterError("name the person the case is assigned to")
    with register.transaction():
        case = register.require_case(ref)
        at = register.now()
        register.execute("UPDATE cases SET owner = ?, updated = ? WHERE ref = ?", (person.strip(), at, case.ref))
        why = f"assigned to {person.strip()}" + (f": {reason.strip()}" if reason.strip() else "")
        register.add_event(case.ref, "assigned", case.stage, actor, why, None, at)
        return register.require_case(case.ref)


@dataclass(frozen=True)
class MovedMessage:
    """A message a person moved into a stage folder, and what the register made of it."""

    message_id: str
    from_folder: str | None
    to_folder: str
    stage: int
    case_ref: str | None
    action: str
    """'restaged', 'opened', 'attached', 'noted' (the case was at that stage already) or 'unchanged'
    (the case is closed: the correction is kept, the case left alone)."""

    def line(self) -> str:
        """One log line."""
        return (f"{self.message_id} {MOVED_IN_THE_MAILBOX} from {self.from_folder or 'elsewhere'!r} "
                f"to {self.to_folder!r}: case {self.case_ref or 'none'} {self.action}")


def correct_by_move(register: CaseRegister, message: RecordedMessage, stage: int, *, from_folder: str | None,
                    to_folder: str, thread_ids: Sequence[str] = ()) -> MovedMessage:
    """Record a person's move of a message into a stage folder as a correction, "moved in the mailbox".

    A message on an open case restages it (or, already at that stage, keeps the correction only);
    a message on no case joins the open case it threads to, else opens one at that stage.
    """
    reason = f"{MOVED_IN_THE_MAILBOX} from {from_folder or 'another folder'!r} to {to_folder!r}"
    actor, via = MOVED_IN_THE_MAILBOX, VIA_MAILBOX

    def moved(ref: str | None, action: str) -> MovedMessage:
        return MovedMessage(message.message_id, from_folder, to_folder, stage, ref, action)

    with register.transaction():
        ref = _owner_of(register, message.message_id)
        if ref is None:
            threaded = register.case_for_message_ids(list(thread_ids))
            while threaded is not None and threaded.merged_into:
                threaded = register.require_case(threaded.merged_into)
            if threaded is None or threaded.status != "open":
                case = open_from_message(register, message.message_id, organisation=message.organisation,
                                         commissioned=message.commissioned, stage=stage, actor=actor,
                                         reason=reason, via=via)
                return moved(case.ref, "opened")
            case = attach_message(register, message.message_id, threaded.ref, actor=actor, reason=reason,
                                  via=via)
            if case.stage != stage:
                restage(register, case.ref, stage, actor=actor, reason=reason, via=via,
                        message_id=message.message_id)
            return moved(case.ref, "attached")
        case = register.require_case(ref)
        if case.status == "open" and case.stage != stage:
            restage(register, case.ref, stage, actor=actor, reason=reason, via=via, message_id=message.message_id)
            return moved(case.ref, "restaged")
        correct_message(register, message.message_id, stage, actor=actor, reason=reason, via=via)
        return moved(case.ref, "noted" if case.status == "open" else "unchanged")
