"""A case's escalation letter: the letter data built from the register, written by the renderer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from compact_docs.errors import RegisterError
from compact_docs.models import Voice
from compact_docs.register import Case, CaseEvent, CaseRegister
from compact_docs.renderer import FORMATS, RenderResult, render

ROUTING_ACTORS = frozenset({"compact-docs routing rules"})
"""Actors whose event reasons are the rules' own words rather than a person's."""


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()


_GREETING = re.compile(r"^(?:dear|hi|hello|good (?:morning|afternoon)|to whom)\b", re.IGNORECASE)
_SIGN_OFF = re.compile(r"^(?:(?:kind|best|warm)?\s*regards|best wishes|many thanks|thanks|"
                       r"thank you|yours|cheers|sent from)\b", re.IGNORECASE)


def _summary(text: str, limit: int = 600) -> str:
    """The words of a message without greeting and sign-off, up to about `limit` characters."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _GREETING.match(ln)]
    for index, line in enumerate(lines):
        if index and _SIGN_OFF.match(line) and len(line.split()) <= 4:
            lines = lines[:index]
            break
    # A signature is a run of short lines with no full stop after the last sentence.
    while len(lines) > 1 and len(lines[-1].split()) <= 8 and not lines[-1].endswith((".", "?", "!")):
        lines.pop()
    joined = " ".join(lines)
    if len(joined) <= limit:
        return joined
    cut = joined[:limit]
    return cut[: cut.rfind(". ") + 1] if ". " in cut else cut.rstrip() + "..."


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _tried(register: CaseRegister, case: Case, events: Sequence[CaseEvent], voice: Voice) -> list[dict[str, Any]]:
    """What was tried, stage by stage, in the letter's voice (the organisation is 'we' in its own
    letter and named in BVSC's); an escalation asked for by email is reported, never pasted."""
    profile = register.profile
    org = case.organisation or "the organisation"
    tried: list[dict[str, Any]] = []
    opened = next((e for e in events if e.kind == "opened"), None)
    informal = next((s for s in profile.dispute.stages if s.entry == "commissioned"), None)
    # A case the router opened at a later stage for its issue's type (the Compact's own examples
    # for that stage) skipped informal resolution: the organisation did not say it had tried it.
    by_issue_type = bool(opened and opened.actor in ROUTING_ACTORS
                         and "stage_from_issue_type" in opened.reason)
    if opened and case.commissioned and informal and opened.stage > informal.number and not by_issue_type:
        register_name = _register_name(register)
        tried.append({"date": None, "action": "Informal resolution with the commissioner",
                      "outcome": (f"Not resolved, as {org} told {register_name} when it raised the dispute"
                                  if voice == "dispute-body" else "Not resolved")})
    for event in events:
        if event.kind != "escalated":
            continue
        left = profile.stage(event.stage - 1)
        when = _day(event.at)
        if event.actor in ROUTING_ACTORS:
            asked = f"{org} asked" if voice == "dispute-body" else "we asked"
            outcome = f"Not resolved; on {_long(when)} {asked} for it to go to stage {event.stage}"
        else:
            outcome = f"Not resolved; moved to stage {event.stage}: {event.reason}"
        tried.append({"date": when.isoformat(), "action": f"Stage {left.number}, {left.name}",
                      "outcome": outcome})
    return tried


def _register_name(register: CaseRegister) -> str:
    body = register.profile.body(register.profile.dispute.register_body)
    return (body.acronym or body.name) if body else "us"


def check_letter_wanted(case: Case, *, organisation: str | None = None, force: bool = False) -> None:
    """Refuse a letter for a closed case, or for a case whose organisation is unknown, unless told.

    RegisterError says how to go on: ``force`` writes it anyway, ``organisation`` names who it is for.
    """
    if force:
        return
    if case.status == "closed":
        where = f"; it was merged into {case.merged_into}" if case.merged_into else ""
        raise RegisterError(f"case {case.ref} is closed{where}: no letter written (--force to write it anyway, "
                            f"or reopen it: compact-docs cases reopen {case.ref} --reason ...)")
    if not (organisation or case.organisation):
        raise RegisterError(f"case {case.ref} is from an unknown organisation ({case.sender or 'no address'}): "
                            "name it with --organisation NAME (or --force to write it as it is)")


def escalation_data(register: CaseRegister, ref: str, *, commissioner: str | None = None,
                    commissioner_body: str | None = None, policy_decision: str | None = None,
                    asks: Iterable[str] = (), on: date | None = None, voice: Voice = "dispute-body",
                    referred_to: Iterable[str] = (), organisation: str | None = None) -> dict[str, Any]:
    """The data of the escalation letter for a case at its current stage, from the register.

    By default the letter is in the voice of the body that runs the dispute process (BVSC), which
    makes it, quoting the organisation's email; `voice="organisation"` makes a draft for the
    organisation to send itself. The issue comes from the case's topic and first message, what was
    tried from its events; a stage reached by escalation needs a policy decision, taken from
    `policy_decision`, else a person's escalation reason, else the words of the message that asked
    for it (quoted), and `referred_to` names the bodies that take it. `organisation` names the
    organisation when the register does not know it.
    """
    case = register.require_case(ref)
    profile = register.profile
    events = register.events(case.ref)
    first = register.first_message(case.ref)
    stage = profile.stage(case.stage)
    org_name = organisation or case.organisation or f"Unknown organisation ({case.sender or 'no address'})"
    contact: dict[str, Any] | None = None
    if case.sender:
        name = first.sender_name if first and first.sender_name else case.sender
        contact = {"name": name, "email": case.sender}
    writer: dict[str, Any] = {"name": org_name, "commissioned": bool(case.commissioned)}
    if contact:
        writer["contact"] = contact
    party: dict[str, Any] = {"name": commissioner_body or "the commissioner"}
    if commissioner:
        party["contact"] = {"name": "Commissioning officer", "email": commissioner}
    details = _summary(first.excerpt, 1500) if first and first.excerpt else None
    issue: dict[str, Any] = {"summary": case.topic or f"The dispute in case {case.ref}",
                             "details": details or None,
                             "raised_on": _day(case.received or case.opened).isoformat()}
    if voice == "dispute-body" and details:
        issue["quoted_from"] = f"{org_name}'s email to {_register_name(register)}"
    data: dict[str, Any] = {
        "kind": "escalation",
        "profile": profile.id,
        "stage": case.stage,
        "case_ref": case.ref,
        "voice": voice,
        "date": (on or datetime.now(ZoneInfo(profile.timezone)).date()).isoformat(),
        "organisation": writer,
        "commissioner": party,
        "issue": issue,
        "tried": _tried(register, case, events, voice),
        "asks": [a for a in asks if a.strip()],
        "referred_to": list(referred_to),
    }
    if stage.entry == "escalation":
        data["policy_decision"] = policy_decision or _policy_decision(register, case, events, voice)
    elif policy_decision:
        data["policy_decision"] = policy_decision
    return data


def _policy_decision(register: CaseRegister, case: Case, events: Sequence[CaseEvent], voice: Voice) -> str:
    escalation = next((e for e in reversed(events) if e.kind == "escalated"
                       and e.stage == case.stage), None)
    if escalation is None:
        return f"The policy question raised in case {case.ref}: {case.topic}"
    if escalation.actor not in ROUTING_ACTORS:
        return escalation.reason
    message = register.recorded_message(escalation.message_id) if escalation.message_id else None
    if message and message.excerpt:
        words = _summary(message.excerpt, 800)
        if voice == "dispute-body":
            org = case.organisation or "The organisation"
            return f"{org} wrote to {_register_name(register)}: \u201c{words}\u201d"
        return words
    return f"The policy question raised in case {case.ref}: {case.topic}"


def write_case_letter(register: CaseRegister, ref: str, out_dir: str | Path = ".",
                      formats: Iterable[str] = FORMATS, *, commissioner: str | None = None,
                      commissioner_body: str | None = None, policy_decision: str | None = None,
                      asks: Iterable[str] = (), force: bool = False,
                      on: date | None = None, organisation: str | None = None,
                      voice: Voice = "dispute-body", referred_to: Iterable[str] = ()) -> RenderResult:
    """Write the escalation letter for a case's current stage with the letters renderer, in the
    dispute body's voice by default (`voice="organisation"` for the organisation's own draft).

    A closed case, or one from an unknown organisation, is refused (RegisterError) unless
    ``force`` is given or ``organisation`` names it.
    """
    check_letter_wanted(register.require_case(ref), organisation=organisation, force=force)
    data = escalation_data(register, ref, commissioner=commissioner,
                           commissioner_body=commissioner_body, policy_decision=policy_decision,
                           asks=asks, on=on, organisation=organisation, voice=voice,
                           referred_to=referred_to)
    return render(data, formats, out_dir, profile=register.profile, force=force, kind="escalation")
