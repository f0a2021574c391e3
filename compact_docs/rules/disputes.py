"""The stage decision: which stage of the Compact's conflict-resolution process a message reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from compact_docs.rules.profile import DisputeStage, Profile

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
    policy: tuple[str, ...] = ()
    """The escalation phrases that ask for a policy decision (a subset of `escalation`)."""
    dispute_score: Weighed | None = None
    tried_score: Weighed | None = None
    issue_types: tuple[FoundIssue, ...] = ()
    commissioner_side: str | None = None
    """Set (to the sender) when the message comes from a commissioner's side (not a forward of
    an organisation's message): a new one is not an organisation's dispute, a reply never
    escalates."""
    colleague: str | None = None
    """Set (to how it is known) when a new message comes from a colleague at the mailbox's own
    organisation and forwards nothing: internal mail, which a person reads."""
    list_hints: tuple[str, ...] = ()
    newsletter: bool = False
    dispute_outright: tuple[str, ...] = ()
    """Words that say outright it is a dispute ('we object', 'formal complaint'): the rule decides."""
    tried_outright: tuple[str, ...] = ()
    """Words that say outright informal resolution was tried and failed: the rule decides."""
    tried_told: bool = False
    """Whether the sender's words tell of an attempt that failed (a tried-and-failed rule found it);
    without that, a high 'tried' score rests on other words, such as a stage-2 issue in words
    the profile's patterns do not know, and the reason says so."""
    unknown_case: str | None = None
    """A case reference the message names that the register does not hold (a person places it)."""
    names_issue: bool = False
    """Whether the sender's own words (not only the subject) name one of the profile's issue types,
    and no rule reads the message as something else (thanks, an invitation, a question ...)."""
    other_language: bool = False
    """Whether the sender wrote in another language with no English lines to weigh: the models,
    learned mostly on English, must be surer before they decide a stage."""


@dataclass(frozen=True)
class Weighed:
    """A learned model's answer: the probability of 'yes' and the words that weighed most."""

    probability: float
    words: str
    """The top-weighted words for the answer given, quoted: "'five weeks', 'late'"."""


@dataclass(frozen=True)
class FoundIssue:
    """An issue type of the profile found in a message, with the words that told of it."""

    id: str
    words: str
    start: int = 0
    """Where its words begin in the normalised text that was searched (the subject comes first)."""


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

    What counts depends on the stage the case would move into (its `escalated_by`): that the
    issue is still unresolved or needs someone more senior ('unresolved'), or that it needs a
    policy decision ('policy', the only ask that reaches Bexley's stage 3). Saying informal
    resolution with the commissioner failed counts as 'unresolved' only while the case is at the
    informal stage (entry 'commissioned'): past it, that is history, not a request.
    """
    target = profile.stage(next_stage(profile, case.stage))
    asks: tuple[str, ...] = ()
    if "unresolved" in target.escalated_by:
        asks = facts.escalation
        if profile.stage(case.stage).entry == "commissioned":
            asks += tuple(p for p in (*facts.tried_informal, *facts.tried_outright) if p not in asks)
            tried = facts.tried_score
            if not asks and tried is not None and tried.probability >= profile.dispute.routing.confidence:
                asks = (f"tried informal resolution ({tried.words})",)
    elif "policy" in target.escalated_by:
        asks = facts.policy
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
            side = (f"from the commissioners' side ({facts.commissioner_side})"
                    if facts.commissioner_side else f"not from {_case_party(case)}")
            reasons.append(
                f"asks to escalate case {case.ref} ({_quoted(asks)}) but is {side}: only the "
                f"case's own side escalates it, so it joins at stage {case.stage}; a caseworker "
                "decides whether to escalate"
            )
            return StageDecision(stage_disposition(case.stage), case.stage, "join", tuple(reasons))
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
        elif facts.escalation and next_stage(profile, case.stage) > case.stage:
            higher = profile.stage(next_stage(profile, case.stage))
            reasons.append(
                f"says it is not settled ({_quoted(facts.escalation)}), but stage {higher.number} "
                f"is for a policy decision ({profile.cite(higher.clause)}): stays at stage "
                f"{case.stage}; a caseworker may escalate it"
            )
        else:
            reasons.append(f"no request to escalate: stays at stage {case.stage}")
        return StageDecision(stage_disposition(case.stage), case.stage, "join", tuple(reasons))
    if facts.unknown_case is not None:
        reasons.append(f"it names case {facts.unknown_case}, which this register does not hold: a "
                       "person finds the case it belongs to (it is neither opened afresh nor acknowledged)")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    return _new_dispute(profile, facts, reasons)


def _confident(profile: Profile, score: Weighed | None, phrases: tuple[str, ...], *,
               confidence: float | None = None) -> bool | None:
    """True, False, or None (unsure) for a yes/no the model weighs (as sure as `confidence`, by
    default the profile's); without a model, the phrases say."""
    if score is None:
        return bool(phrases)
    if confidence is None:
        confidence = profile.dispute.routing.confidence
    if score.probability >= confidence:
        return True
    if score.probability <= 1 - confidence:
        return False
    return None


_NAMED_ISSUE_FLOOR = 0.05
"""Below this probability of a dispute, naming an issue of the Compact's does not make a message one."""


def _percent(score: Weighed) -> str:
    return f"{score.probability:.0%}"


def _is_dispute(profile: Profile, facts: DisputeFacts,
                reasons: list[str]) -> StageDecision | None:
    """None when the message is a dispute (reasons say why); otherwise the decision it gets."""
    score = facts.dispute_score
    # "I wish to complain" from a sender the directory does not know is as often a resident's own
    # complaint as an organisation's: the words are weighed, not taken as deciding. (A subject's
    # 'Formal complaint' only repeats the sender's own 'I wish to make a formal complaint'.)
    mine = [p for p in facts.dispute_outright if p.startswith(("i ", "i'", "my "))]
    personal = facts.organisation is None and score is not None and all(
        any(p in own for own in mine) for p in facts.dispute_outright)
    if facts.dispute_outright and not personal:
        reasons.append(f"says outright that it is a dispute ({_quoted(facts.dispute_outright)})")
        return None
    verdict = _confident(profile, score, facts.dispute)
    phrases = f"; phrases {_quoted(facts.dispute)}" if facts.dispute else ""
    # An organisation naming one of the Compact's issues is a dispute, unless its other words weigh
    # strongly against one (a question about a tender it will bid for is no objection to one).
    if verdict is not True and facts.names_issue and facts.organisation is not None and facts.issue_types \
            and (score is None or score.probability >= _NAMED_ISSUE_FLOOR):
        issue = profile.issue_type(facts.issue_types[0].id)
        if issue is not None:
            weighed = f"; its other words weigh {_percent(score)} a dispute" if score is not None else ""
            reasons.append(f"{facts.organisation} names {issue.name} ({facts.issue_types[0].words}), an "
                           f"issue the Compact's process is for ({profile.cite(issue.clause)}): a dispute{weighed}")
            return None
    if verdict and score is not None:
        reasons.append(f"reads as a dispute ({_percent(score)}; words {score.words}{phrases}): "
                       "this mailbox presumes a dispute unless a message reads as something else")
        return None
    if verdict:
        reasons.append(f"raises a dispute ({_quoted(facts.dispute)})")
        return None
    if verdict is None and score is not None and profile.dispute.routing.presume_dispute:
        reasons.append(f"presumed a dispute: this mailbox's messages are disputes unless they read "
                       f"as something else, and this one does not clearly ({_percent(score)} a "
                       f"dispute; words {score.words}{phrases})")
        return None
    if verdict is None and score is not None:
        reasons.append(f"unsure whether this is a dispute ({_percent(score)}, below the profile's "
                       f"confidence {profile.dispute.routing.confidence:.0%}; words {score.words}"
                       f"{phrases}): a person looks")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    if facts.newsletter:
        reasons.append(f"list mail ({'; '.join(facts.list_hints)}) that is not a dispute: ignored, "
                       "never acknowledged")
        return StageDecision("ignored", None, "none", tuple(reasons))
    if score is not None:
        reasons.append(f"reads as something other than a dispute ({1 - score.probability:.0%}; "
                       f"words {score.words}): a person looks")
    else:
        reasons.append("no dispute, complaint or objection found: a person looks")
    return StageDecision("needs-triage", None, "none", tuple(reasons))


def _issue_stage(profile: Profile, facts: DisputeFacts) -> tuple[DisputeStage, str] | None:
    """The later stage a commissioned organisation's issue opens at by its type, and why."""
    if not profile.dispute.routing.stage_from_issue_type:
        return None
    informal = _first(profile, "commissioned")
    for found in facts.issue_types:
        issue = profile.issue_type(found.id)
        if issue is None or informal is None or issue.stage <= informal.number:
            continue
        stage = profile.stage(issue.stage)
        if stage.entry != "any":
            continue
        why = (f"{issue.name} ({found.words}) is the Compact's example for stage {stage.number} "
               f"({profile.cite(issue.clause)})")
        return stage, why
    return None


def _new_dispute(profile: Profile, facts: DisputeFacts, reasons: list[str]) -> StageDecision:
    """The entry stage of a message that belongs to no case, or needs-triage with the doubt."""
    if facts.newsletter:
        reasons.append(f"a newsletter or digest ({'; '.join(facts.list_hints)}): ignored, never "
                       "acknowledged")
        return StageDecision("ignored", None, "none", tuple(reasons))
    if facts.commissioner_side:
        reasons.append(f"sent from a commissioner's side ({facts.commissioner_side}), not by an "
                       "organisation: a person decides whose issue it is")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    if facts.colleague:
        reasons.append(f"from a colleague, not an organisation ({facts.colleague}): internal mail "
                       "that forwards nothing, so a person reads it")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    not_dispute = _is_dispute(profile, facts, reasons)
    if not_dispute is not None:
        return not_dispute
    informal_stage = _first(profile, "commissioned")
    for found in facts.issue_types:
        issue = profile.issue_type(found.id)
        if issue is not None and informal_stage is not None and issue.stage == informal_stage.number:
            reasons.append(f"{issue.name} ({found.words}), the Compact's example for stage "
                           f"{issue.stage} ({profile.cite(issue.clause)})")
    if facts.organisation is None or not facts.commissioned:
        stage = entry_stage(profile, facts.commissioned, False)
        cite = profile.cite(stage.clause)
        if facts.organisation is None:
            reasons.append(f"unknown organisation: opens at stage {stage.number}, {stage.name} "
                           f"({cite}); check who the sender is")
        else:
            reasons.append(f"{facts.organisation} is not commissioned: goes straight to stage "
                           f"{stage.number}, {stage.name} ({cite})")
        return StageDecision(stage_disposition(stage.number), stage.number, "open", tuple(reasons))
    return _commissioned_stage(profile, facts, reasons)


def _stage_confidence(profile: Profile, facts: DisputeFacts) -> float:
    """How sure a stage decision must be: the profile's confidence, or its other_language_confidence
    where that is higher and the words are in another language with no English lines."""
    routing = profile.dispute.routing
    return max(routing.confidence, routing.other_language_confidence) if facts.other_language else routing.confidence


def _needed(profile: Profile, facts: DisputeFacts) -> str:
    """The confidence a stage decision needed, as the doubt names it."""
    needed = _stage_confidence(profile, facts)
    if needed > profile.dispute.routing.confidence:
        return f"the {needed:.0%} needed of words in another language"
    return f"the profile's confidence {needed:.0%}"


def _commissioned_stage(profile: Profile, facts: DisputeFacts, reasons: list[str]) -> StageDecision:
    """A commissioned organisation's new dispute: stage 1, or 2 when it tried informal resolution
    or its issue is a stage-2 example; needs-triage when unsure whether it tried."""
    tried = True if facts.tried_outright else _confident(profile, facts.tried_score, facts.tried_informal,
                                                         confidence=_stage_confidence(profile, facts))
    informal = entry_stage(profile, True, False)
    later = entry_stage(profile, True, True)
    score = facts.tried_score
    phrases = f"; phrases {_quoted(facts.tried_informal)}" if facts.tried_informal else ""
    by_issue = _issue_stage(profile, facts)
    if by_issue is not None and not tried:
        stage, why = by_issue
        reasons.append(f"{facts.organisation} is commissioned, but {why}: stage {stage.number}, "
                       f"{stage.name} (profile: dispute.routing.stage_from_issue_type)")
        return StageDecision(stage_disposition(stage.number), stage.number, "open", tuple(reasons))
    if tried is None and score is not None:
        reasons.append(f"unsure between stage {informal.number} and {later.number}: has "
                       f"{facts.organisation} already tried to settle it with its commissioner? "
                       f"({_percent(score)}, below {_needed(profile, facts)}; words {score.words}{phrases}): "
                       "a person decides")
        return StageDecision("needs-triage", None, "none", tuple(reasons))
    stage = later if tried else informal
    cite = profile.cite(stage.clause)
    if tried:
        if facts.tried_outright:
            words = f"in so many words: {_quoted(facts.tried_outright)}"
        elif score is not None:
            words = f"{_percent(score)}; words {score.words}{phrases}"
        else:
            words = _quoted(facts.tried_informal)
        if score is not None and not facts.tried_outright and not facts.tried_told and not facts.tried_informal:
            reasons.append(f"{facts.organisation} writes as past the informal stage: a failed attempt with its "
                           f"commissioner, or an issue of stage {stage.number}'s kind ({words}): stage "
                           f"{stage.number}, {stage.name} ({cite})")
        else:
            reasons.append(f"{facts.organisation} says informal resolution with its commissioner has "
                           f"already failed ({words}): stage {stage.number}, {stage.name} ({cite})")
    else:
        words = f" ({1 - score.probability:.0%}; words {score.words})" if score else ""
        reasons.append(f"{facts.organisation} is commissioned and has not said it tried informal "
                       f"resolution{words}: stage {stage.number}, {stage.name} ({cite})")
    return StageDecision(stage_disposition(stage.number), stage.number, "open", tuple(reasons))
