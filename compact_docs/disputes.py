"""The stage decision: which stage of the Compact's conflict-resolution process a message reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from compact_docs.profile import DisputeStage, Profile

Disposition = Literal["stage-1", "stage-2", "stage-3", "needs-triage", "ignored"]
DISPOSITIONS: tuple[str, ...] = ("stage-1", "stage-2", "stage-3", "needs-triage", "ignored")

Action = Literal["none", "open", "join", "escalate"]
"""What the decision does to the register: nothing, open a case, join one, or escalate one."""


def stage_disposition(stage: int) -> str:
    """The disposition of a stage number: 'stage-2'."""
    return f"stage-{stage}"


@dataclass(frozen=True)
class CaseState:
    """What the decision needs to know about the case a message belongs to."""

    ref: str
    stage: int
    status: str
    organisation: str | None
    commissioned: bool | None
    sender: str | None = None
    """The address of the message that opened the case, if known."""


@dataclass(frozen=True)
class DisputeFacts:
    """Facts extracted from one message, in plain values, for the stage decision.

    `automatic` holds why the message is automatic mail (empty when it is not); `dispute`,
    `tried_informal` and `escalation` hold the phrases found (an escalation phrase that is part of
    a tried-informal phrase, "spoke to the council but got nowhere", is left out of `escalation`:
    it tells of the informal stage); `notes` are reasons that come from the extraction itself (how
    the sender was matched, parse problems) and lead the decision's reasons. `sender` is the
    message's From address and `sender_organisation` the directory's organisation for it (None
    when unknown); `organisation` is the case's organisation for a message that joins a case.
    `sender_doubt` says why the From header cannot be trusted to name the sender (a forged
    display name, defects): such a message goes to a person and never moves a case.
    """

    automatic: tuple[str, ...] = ()
    case: CaseState | None = None
    case_link: str | None = None
    organisation: str | None = None
    commissioned: bool | None = None
    dispute: tuple[str, ...] = ()
    tried_informal: tuple[str, ...] = ()
    escalation: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unreadable: str | None = None
    sender: str | None = None
    sender_organisation: str | None = None
    sender_doubt: str | None = None


@dataclass(frozen=True)
class StageDecision:
    """The outcome of the rules for one message: disposition, stage, what to do, and why."""

    disposition: str
    stage: int | None
    action: Action
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _quoted(phrases: tuple[str, ...]) -> str:
    shown = [p if len(p) <= 60 else p[:57].rstrip() + "..." for p in phrases[:5]]
    return ", ".join(f"'{p}'" for p in shown)


def _first(profile: Profile, entry: str, above: int = 0) -> DisputeStage | None:
    return next((s for s in profile.dispute.stages if s.entry == entry and s.number > above), None)


def entry_stage(profile: Profile, commissioned: bool | None, tried_informal: bool) -> DisputeStage:
    """The stage a new dispute opens at under the profile's stages.

    A commissioned organisation enters at the first stage whose entry is 'commissioned' (informal
    resolution with its commissioner) unless it has already tried that; everyone else, and a
    commissioned organisation that has tried, enters at the first stage open to 'any' organisation.
    """
    informal = _first(profile, "commissioned")
    if commissioned and not tried_informal and informal is not None:
        return informal
    any_stage = _first(profile, "any", informal.number if informal and commissioned else 0)
    return any_stage or _first(profile, "any") or profile.dispute.stages[0]


def next_stage(profile: Profile, current: int) -> int:
    """The stage an escalation moves a case to: one up, and the last stage stays where it is."""
    return min(current + 1, profile.last_stage)


def escalation_requests(profile: Profile, case: CaseState, facts: DisputeFacts) -> tuple[str, ...]:
    """The phrases of a message on a case that ask to move the case up a stage.

    The escalation signals (still unresolved, a senior officer, a policy decision) always count.
    Saying informal resolution with the commissioner failed counts only while the case is at the
    informal stage (entry 'commissioned'): past it, that is history, not a request.
    """
    asks = facts.escalation
    if profile.stage(case.stage).entry == "commissioned":
        asks += tuple(p for p in facts.tried_informal if p not in facts.escalation)
    return asks


def _same_address(one: str | None, other: str | None) -> bool:
    return bool(one and other and one.strip().lower() == other.strip().lower())


def may_escalate(case: CaseState, facts: DisputeFacts) -> bool:
    """Whether a message may escalate its case without a caseworker: only from the case's side.

    That is a sender the directory puts in the case's organisation, or the case's original sender.
    Anyone else quoting the reference (or replying in the thread) only joins the case.
    """
    if case.organisation is not None and facts.sender_organisation == case.organisation:
        return True
    return _same_address(facts.sender, case.sender)


def _case_party(case: CaseState) -> str:
    if case.organisation is not None:
        return case.organisation
    if case.sender:
        return f"the case's original sender {case.sender}"
    return "the case's organisation"


def decide_stage(profile: Profile, facts: DisputeFacts) -> StageDecision:
    """Apply the Compact's routing rules, in order, to the facts of one message."""
    reasons = list(facts.notes)
    if facts.automatic:
        reasons.append("automatic mail, never acknowledged (RFC 3834): " + "; ".join(facts.automatic))
        return StageDecision("ignored", None, "none", tuple(reasons))
    if facts.unreadable:
        reasons.append(f"the message could not be read ({facts.unreadable}): a person looks")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    if facts.sender_doubt:
        reasons.append(f"the From header cannot be trusted ({facts.sender_doubt}): a person checks "
                       "who sent it; it neither opens, joins nor escalates a case")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    case = facts.case
    if case is not None:
        reasons.append(f"belongs to case {case.ref} ({facts.case_link or 'threaded'})")
        if case.status != "open":
            reasons.append(f"case {case.ref} is {case.status}: a person decides whether to reopen it")
            return StageDecision("needs-triage", None, "join", tuple(reasons))
        asks = escalation_requests(profile, case, facts)
        if asks and not may_escalate(case, facts):
            reasons.append(
                f"asks to escalate case {case.ref} ({_quoted(asks)}) but is not from "
                f"{_case_party(case)}; a caseworker decides"
            )
            return StageDecision("needs-triage", None, "join", tuple(reasons))
        if asks:
            target = next_stage(profile, case.stage)
            if target > case.stage:
                stage = profile.stage(target)
                reasons.append(
                    f"asks to escalate ({_quoted(asks)}): stage {case.stage} to stage {target}, "
                    f"{stage.name} ({profile.cite(stage.clause)})"
                )
                return StageDecision(stage_disposition(target), target, "escalate", tuple(reasons))
            reasons.append(
                f"asks to escalate ({_quoted(asks)}) but stage {case.stage} is the last stage"
            )
        else:
            reasons.append(f"no request to escalate: stays at stage {case.stage}")
        return StageDecision(stage_disposition(case.stage), case.stage, "join", tuple(reasons))
    if not facts.dispute:
        reasons.append("no dispute, complaint or objection found: a person looks")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    reasons.append(f"raises a dispute ({_quoted(facts.dispute)})")
    tried = bool(facts.tried_informal)
    stage = entry_stage(profile, facts.commissioned, tried)
    cite = profile.cite(stage.clause)
    if facts.organisation is None:
        reasons.append(f"unknown organisation: opens at stage {stage.number}, {stage.name} ({cite}); "
                       "check who the sender is")
    elif not facts.commissioned:
        reasons.append(f"{facts.organisation} is not commissioned: goes straight to stage "
                       f"{stage.number}, {stage.name} ({cite})")
    elif tried:
        reasons.append(f"{facts.organisation} says informal resolution with its commissioner has "
                       f"already failed ({_quoted(facts.tried_informal)}): stage {stage.number}, "
                       f"{stage.name} ({cite})")
    else:
        reasons.append(f"{facts.organisation} is commissioned and has not said it tried informal "
                       f"resolution: stage {stage.number}, {stage.name} ({cite})")
    return StageDecision(stage_disposition(stage.number), stage.number, "open", tuple(reasons))
