"""The stage decision under the Compact's conflict-resolution rules, driven by the profile."""

from __future__ import annotations

import pytest

from compact_docs.rules.disputes import (
    DISPOSITIONS,
    CaseState,
    DisputeFacts,
    FoundIssue,
    Weighed,
    decide_stage,
    entry_stage,
    next_stage,
)
from compact_docs.rules.profile import Profile, load_profile

BEXLEY = load_profile("bexley")
NATIONAL = load_profile("national")
DISPUTE = ("late payment",)


def case(stage: int, status: str = "open", commissioned: bool | None = True) -> CaseState:
    return CaseState("BXC-2026-0007", stage, status, "Bexley Age Well", commissioned,
                     sender="jo.smith@agewell.example")


# A reply from the case's own organisation, which may escalate it.
SENDER, ORGANISATION = "sam@agewell.example", "Bexley Age Well"


def test_automatic_mail_is_ignored_before_anything_else() -> None:
    facts = DisputeFacts(automatic=("Auto-Submitted: auto-replied",), dispute=DISPUTE,
                         case=case(1), escalation=("escalate",))
    decision = decide_stage(BEXLEY, facts)
    assert (decision.disposition, decision.stage, decision.action) == ("ignored", None, "none")
    assert "Auto-Submitted: auto-replied" in decision.reasons[-1]


def test_commissioned_first_contact_is_stage_1_citing_the_clause() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(organisation="Bexley Age Well", commissioned=True,
                                                 dispute=DISPUTE))
    assert (decision.disposition, decision.stage, decision.action) == ("stage-1", 1, "open")
    assert "'late payment'" in decision.reasons[0]
    assert "Conflict Resolution, stage 1" in decision.reasons[-1]


def test_commissioned_that_tried_informally_is_stage_2() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(organisation="Bexley Age Well", commissioned=True,
                                                 dispute=DISPUTE, tried_informal=("got nowhere",)))
    assert decision.disposition == "stage-2"
    assert "'got nowhere'" in decision.reasons[-1]


def test_not_commissioned_goes_straight_to_stage_2() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(organisation="Sidcup Youth Arts", commissioned=False,
                                                 dispute=DISPUTE))
    assert decision.disposition == "stage-2"
    assert "not commissioned" in decision.reasons[-1]


def test_unknown_organisation_is_stage_2_and_flagged() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(dispute=DISPUTE))
    assert decision.disposition == "stage-2"
    assert "unknown organisation" in decision.reasons[-1]


def test_no_dispute_needs_triage() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(organisation="Bexley Age Well", commissioned=True))
    assert (decision.disposition, decision.stage, decision.action) == ("needs-triage", None, "none")


def test_unreadable_message_needs_triage() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(unreadable="parser: IndexError", dispute=DISPUTE))
    assert decision.disposition == "needs-triage"
    assert "could not be read" in decision.reasons[-1]


@pytest.mark.parametrize(("current", "policy", "expected"), [
    (1, False, "stage-2"), (2, True, "stage-3"), (3, True, "stage-3"), (2, False, "stage-2")])
def test_reply_asking_to_escalate_moves_one_stage(current: int, policy: bool, expected: str) -> None:
    # Bexley's stage 3 is for a policy decision (escalated_by = ["policy"]): "still not resolved"
    # moves a case from stage 1 to 2, and only a policy decision from 2 to 3.
    asks = ("a policy decision",) if policy else ("still not resolved",)
    facts = DisputeFacts(case=case(current), case_link="subject carries [BXC-2026-0007]",
                         escalation=asks, policy=asks if policy else (),
                         sender=SENDER, sender_organisation=ORGANISATION)
    decision = decide_stage(BEXLEY, facts)
    assert decision.disposition == expected
    assert decision.action == ("escalate" if int(expected[-1]) > current else "join")
    assert "belongs to case BXC-2026-0007" in decision.reasons[0]
    if (current, policy) == (2, False):
        assert "but stage 3 is for a policy decision (Conflict Resolution, stage 3)" in decision.reasons[-1]


def test_reply_saying_it_tried_and_failed_also_escalates() -> None:
    facts = DisputeFacts(case=case(1), tried_informal=("got nowhere",),
                         sender=SENDER, sender_organisation=ORGANISATION)
    assert decide_stage(BEXLEY, facts).disposition == "stage-2"


@pytest.mark.parametrize("current", [2, 3])
def test_tried_informal_past_the_informal_stage_is_not_a_request(current: int) -> None:
    # Stage 1 is the informal stage (entry 'commissioned'); past it, "we spoke to the council but
    # got nowhere" is background, and stage 3 (entry 'escalation') needs an escalation signal.
    facts = DisputeFacts(case=case(current), tried_informal=("spoke to the council",),
                         sender=SENDER, sender_organisation=ORGANISATION)
    decision = decide_stage(BEXLEY, facts)
    assert (decision.disposition, decision.stage, decision.action) == (f"stage-{current}", current,
                                                                       "join")
    assert "no request to escalate" in decision.reasons[-1]
    both = DisputeFacts(case=case(2), tried_informal=("got nowhere",),
                        escalation=("policy decision",), policy=("policy decision",),
                        sender=SENDER, sender_organisation=ORGANISATION)
    assert decide_stage(BEXLEY, both).disposition == "stage-3"


def test_the_original_sender_may_escalate_even_without_a_known_organisation() -> None:
    unknown = CaseState("BXC-2026-0008", 2, "open", None, None, sender="pat@gmail.example")
    asks = ("policy decision",)
    facts = DisputeFacts(case=unknown, escalation=asks, policy=asks, sender="Pat@Gmail.example")
    assert decide_stage(BEXLEY, facts).action == "escalate"
    stranger = DisputeFacts(case=unknown, escalation=asks, policy=asks, sender="x@other.example")
    decision = decide_stage(BEXLEY, stranger)
    assert (decision.disposition, decision.action) == ("stage-2", "join")
    assert "not from the case's original sender pat@gmail.example" in decision.reasons[-1]


@pytest.mark.parametrize(("sender", "organisation"), [
    ("x@elsewhere.example", None),
    ("y@sidcupyoutharts.example", "Sidcup Youth Arts"),
    (None, None),
])
def test_only_the_case_side_may_escalate(sender: str | None, organisation: str | None) -> None:
    # Someone else on the thread (the commissioner, BVSC, a stranger) never moves the case: the
    # message joins it at its stage, and a caseworker decides whether to escalate.
    asks = ("policy decision",)
    facts = DisputeFacts(case=case(2), case_link="subject carries [BXC-2026-0007]",
                         escalation=asks, policy=asks, sender=sender, sender_organisation=organisation)
    decision = decide_stage(BEXLEY, facts)
    assert (decision.disposition, decision.stage, decision.action) == ("stage-2", 2, "join")
    assert decision.reasons[-1] == (
        "asks to escalate case BXC-2026-0007 ('policy decision') but is not from Bexley Age Well: "
        "only the case's own side escalates it, so it joins at stage 2; a caseworker decides "
        "whether to escalate")
    original = DisputeFacts(case=case(2), escalation=asks, policy=asks, sender="jo.smith@agewell.example")
    assert decide_stage(BEXLEY, original).disposition == "stage-3"


def test_a_stranger_who_does_not_ask_to_escalate_just_joins() -> None:
    facts = DisputeFacts(case=case(2), sender="x@elsewhere.example")
    decision = decide_stage(BEXLEY, facts)
    assert (decision.disposition, decision.stage, decision.action) == ("stage-2", 2, "join")


def test_reply_without_escalation_stays_and_needs_no_dispute_words() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(case=case(2)))
    assert (decision.disposition, decision.stage, decision.action) == ("stage-2", 2, "join")


def test_reply_to_a_closed_case_needs_triage() -> None:
    decision = decide_stage(BEXLEY, DisputeFacts(case=case(2, "closed"), escalation=("escalate",)))
    assert (decision.disposition, decision.stage, decision.action) == ("needs-triage", None, "join")
    assert "closed" in decision.reasons[-1]


def test_entry_stage_follows_the_profile() -> None:
    assert entry_stage(BEXLEY, True, False).number == 1
    assert entry_stage(BEXLEY, True, True).number == 2
    assert entry_stage(BEXLEY, False, False).number == 2
    assert entry_stage(BEXLEY, None, False).number == 2
    assert entry_stage(NATIONAL, True, False).name == "Resolution between the parties"
    assert next_stage(BEXLEY, 1) == 2 and next_stage(BEXLEY, 3) == 3


def test_dispositions_are_the_design_contract() -> None:
    assert DISPOSITIONS == ("stage-1", "stage-2", "stage-3", "needs-triage", "ignored")


def _routing(**changes: object) -> Profile:
    routing = BEXLEY.dispute.routing.model_copy(update=changes)
    return BEXLEY.model_copy(update={"dispute": BEXLEY.dispute.model_copy(update={"routing": routing})})


def test_a_stage_2_issue_type_opens_at_stage_2_unless_the_profile_says_not() -> None:
    monitoring = (FoundIssue("monitoring", "'new monitoring template'"),)
    facts = DisputeFacts(organisation=ORGANISATION, commissioned=True, dispute=DISPUTE,
                         issue_types=monitoring, sender=SENDER, sender_organisation=ORGANISATION)
    decision = decide_stage(BEXLEY, facts)
    assert (decision.disposition, decision.action) == ("stage-2", "open")
    assert "an objection to monitoring requirements ('new monitoring template') is the Compact's " \
           "example for stage 2 (Conflict Resolution, stage 2)" in decision.reasons[-1]
    assert decide_stage(_routing(stage_from_issue_type=False), facts).disposition == "stage-1"


def test_below_the_confidence_a_person_decides_with_the_doubt_stated() -> None:
    base: dict[str, object] = {"organisation": ORGANISATION, "commissioned": True, "sender": SENDER,
                               "sender_organisation": ORGANISATION}
    unsure_stage = DisputeFacts(**base, dispute_score=Weighed(0.9, "'late'"),  # type: ignore[arg-type]
                                tried_score=Weighed(0.5, "'rang'"))
    decision = decide_stage(BEXLEY, unsure_stage)
    assert decision.disposition == "needs-triage"
    assert decision.reasons[-1].startswith("unsure between stage 1 and 2: has Bexley Age Well already "
                                           "tried to settle it with its commissioner? (50%")
    unsure_dispute = DisputeFacts(**base, dispute_score=Weighed(0.5, "'hall'"))  # type: ignore[arg-type]
    assert decide_stage(BEXLEY, unsure_dispute).reasons[-2].startswith("presumed a dispute")
    doubtful = decide_stage(_routing(presume_dispute=False), unsure_dispute)
    assert doubtful.disposition == "needs-triage" and "unsure whether this is a dispute" in doubtful.reasons[-1]
    other = decide_stage(BEXLEY, DisputeFacts(**base, dispute_score=Weighed(0.1, "'thank you'")))  # type: ignore[arg-type]
    assert other.disposition == "needs-triage" and "reads as something other than a dispute" in other.reasons[-1]
    outright = DisputeFacts(**base, dispute_score=Weighed(0.1, "'x'"), dispute_outright=("we object",),  # type: ignore[arg-type]
                            tried_outright=("informal discussions have not worked",))
    assert decide_stage(BEXLEY, outright).disposition == "stage-2"


def test_a_stage_read_from_words_in_another_language_needs_the_surer_confidence() -> None:
    base: dict[str, object] = {"organisation": ORGANISATION, "commissioned": True, "sender": SENDER,
                               "sender_organisation": ORGANISATION, "dispute_score": Weighed(0.9, "'nie'")}
    english = DisputeFacts(**base, tried_score=Weighed(0.7, "'rang'"))  # type: ignore[arg-type]
    assert decide_stage(BEXLEY, english).disposition == "stage-2"
    polish = DisputeFacts(**base, tried_score=Weighed(0.7, "'nie'"), other_language=True)  # type: ignore[arg-type]
    decision = decide_stage(BEXLEY, polish)
    assert decision.disposition == "needs-triage"
    assert "below the 80% needed of words in another language" in decision.reasons[-1]
    sure = DisputeFacts(**base, tried_score=Weighed(0.1, "'nie'"), other_language=True)  # type: ignore[arg-type]
    assert decide_stage(BEXLEY, sure).disposition == "stage-1"
    assert decide_stage(_routing(other_language_confidence=0.6), polish).disposition == "stage-2"


def test_a_message_naming_a_case_the_register_does_not_hold_goes_to_a_person() -> None:
    facts = DisputeFacts(organisation=ORGANISATION, commissioned=True, dispute=DISPUTE, sender=SENDER,
                         sender_organisation=ORGANISATION, unknown_case="BXC-2026-0099")
    decision = decide_stage(BEXLEY, facts)
    assert decision.disposition == "needs-triage" and decision.action == "none"
    assert "BXC-2026-0099" in decision.reasons[-1]


def test_a_stage_2_score_without_a_failed_attempt_told_says_it_may_be_the_issue_itself() -> None:
    base: dict[str, object] = {"organisation": ORGANISATION, "commissioned": True, "sender": SENDER,
                               "sender_organisation": ORGANISATION, "dispute": DISPUTE,
                               "tried_score": Weighed(0.9, "'re-let', 'provider'")}
    by_words = decide_stage(BEXLEY, DisputeFacts(**base))  # type: ignore[arg-type]
    assert by_words.disposition == "stage-2"
    assert "writes as past the informal stage: a failed attempt with its commissioner, or an issue of " \
           "stage 2's kind (90%; words 're-let', 'provider')" in by_words.reasons[-1]
    told = decide_stage(BEXLEY, DisputeFacts(**base, tried_told=True))  # type: ignore[arg-type]
    assert "says informal resolution with its commissioner has already failed" in told.reasons[-1]
