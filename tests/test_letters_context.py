"""The wording of every letter kind: the facts each letter must state, from data, checks and profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from compact_docs.checks import check_letter
from compact_docs.letters import letter_context
from compact_docs.letters.blocks import LetterContext, clean
from compact_docs.loading import load_letter
from compact_docs.profile import load_profile

Example = Callable[[str], dict[str, Any]]


def context_of(data: dict[str, Any], profile: str | None = None) -> LetterContext:
    letter = load_letter(data)
    chosen = load_profile(profile or letter.profile)
    return letter_context(letter, check_letter(letter, chosen), chosen)


def test_notice_states_the_compliance_facts_and_the_checklist(example: Example) -> None:
    context = context_of(example("notice"))
    text = context.text()
    # the deemed date of notice, the earliest and the actual effective date, the last funded day
    assert "Notice counts as given Monday 30 November 2026" in text
    assert "Earliest date the change can take effect Sunday 28 February 2027" in text
    assert "Date the change takes effect Monday 1 March 2027" in text
    assert "The last day of funding is Sunday 28 February 2027" in text
    assert "3 months (Commitment 2, statutory undertaking 2)" in text
    # decision, rationale, engagement, EIA, response, support, duties, dispute route, contact
    assert "Cabinet Member for Communities on Friday 20 November 2026" in text
    assert "medium-term financial strategy" in text
    assert "quarterly monitoring meetings" in text
    assert "EIA-2026-031" in text and "Warm handover" in text
    assert "to commissioning@bexley.example by Friday 15 January 2027" in text
    assert "Jattinder Rai, Chief Executive, jattinder@bvsc.org.uk" in text
    assert "Send us your funding-end plan by 15 January 2027" in text
    for stage in ("Stage 1, Informal resolution", "Stage 2, Raised with BVSC",
                  "Stage 3, Policy decision"):
        assert stage in text
    assert "available in other formats" in text
    assert context.blocks[-1].type == "signature"
    assert context.blocks[-1].items == ("Alex Officer", "Director of Integrated Commissioning",
                                        "London Borough of Bexley")
    assert context.title == ("Notice of the end of funding: Community Connect grant, "
                             "Bexley Age Well")
    headings = [b.text for b in context.blocks if b.type == "heading"]
    assert headings[0] == context.title
    assert "Equality Impact Assessment" in headings and "If you disagree" in headings


def test_notice_sent_after_the_cut_off_by_post_explains_the_deemed_date(example: Example) -> None:
    data = example("notice")
    data["notice"] = {"sent": "2025-12-23T09:00", "delivery": "first-class-post",
                      "effective": "2026-03-29"}
    data["decision"]["decided_on"] = "2025-12-01"
    data["eia"]["date"] = "2025-11-10"
    data["response"]["deadline"] = "2026-02-15"
    text = context_of(data).text()
    assert "Notice counts as given Monday 29 December 2025" in text
    assert "2nd working day after posting" in text
    assert "Earliest date the change can take effect Sunday 29 March 2026" in text


def test_shorter_notice_states_the_exceptional_circumstances(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-01"
    data["notice"]["exceptional_circumstances"] = "The funder's own grant was withdrawn at a week's notice."
    text = context_of(data).text()
    assert "less than 3 months' notice because of exceptional circumstances: The funder's own" in text


def test_reduction_gives_the_new_value(example: Example) -> None:
    data = example("notice")
    data["decision"].update(action="reduce", new_annual_value=30000)
    context = context_of(data)
    assert context.title.startswith("Notice of a reduction in funding")
    assert "to reduce the Community Connect grant to £30,000 a year" in context.text()
    assert "Last day of funding" not in context.text()


def test_service_change_gives_its_plan_and_notice_dates(example: Example) -> None:
    text = context_of(example("service-change")).text()
    assert "at least 3 months' notice of any change to service provision" in text
    assert "(Commitment 2, VCO undertaking 2)" in text
    assert "Date the change takes effect Saturday 3 April 2027" in text
    assert "Agree a three-year hire agreement" in text
    assert "We will tell the people who use the service on Saturday 5 December 2026" in text


def test_funding_end_plan_has_every_section_and_dated_milestones(example: Example) -> None:
    context = context_of(example("funding-end-plan"))
    assert context.layout == "document"
    headings = [b.text for b in context.blocks if b.type == "heading"]
    for section in ("Beneficiaries and how they are moved on", "Notice to beneficiaries",
                    "Staff and volunteers", "Contracts, leases, assets and unspent funds",
                    "Records and data", "Communications", "Risks", "Milestones"):
        assert section in headings
    tables = [b for b in context.blocks if b.type == "table"]
    milestones = tables[-1]
    assert milestones.header == ("Date", "Action", "Owner")
    assert milestones.rows[0] == ("1 December 2026", "Every client told in writing and by phone",
                                  "Service Manager")
    assert "they must be told by Tuesday 1 December 2026" in context.text()


@pytest.mark.parametrize(("stage", "addressed_to", "says"), [
    (1, "Alex Officer, Commissioning Manager", "raise an issue with you informally"),
    (2, "Jattinder Rai, Chief Executive", "ask BVSC to take it up"),
    (3, "The Chair, Strategic Commissioning Board", "for a policy decision"),
])
def test_escalation_stages_are_addressed_and_worded_for_their_stage(
    example: Example, stage: int, addressed_to: str, says: str
) -> None:
    context = context_of(example(f"escalation-stage-{stage}"))
    address = next(b for b in context.blocks if b.type == "address")
    assert addressed_to in address.items
    text = context.text()
    assert says in text
    assert f"(Conflict Resolution, stage {stage})" in text
    assert context.stage == stage
    if stage == 3:
        assert "The policy decision needed" in text
        assert address.items == ("The Chair, Strategic Commissioning Board",
                                 "c/o Director of Integrated Commissioning, London Borough of Bexley "
                                 "and South East London ICS")
        assert "Dear Chair," in text
    if stage > 1:
        assert "Copy to:" in text


def test_non_commissioned_stage_2_says_why_it_skips_stage_1(example: Example) -> None:
    data = example("escalation-stage-2")
    data["organisation"]["commissioned"] = False
    text = context_of(data).text()
    assert "is not commissioned by London Borough of Bexley, the Compact brings the dispute " \
           "straight to stage 2 (Conflict Resolution, stage 1.2)" in text


def test_agreement_quotes_the_sectors_undertakings_from_the_profile(example: Example) -> None:
    context = context_of(example("agreement"))
    profile = load_profile("bexley")
    items = [item for b in context.blocks if b.type == "list" for item in b.items]
    for commitment in profile.commitments:
        for undertaking in commitment.vcs + commitment.shared:
            assert clean(undertaking) in items
        for undertaking in commitment.statutory:
            if undertaking not in commitment.vcs + commitment.shared:
                assert clean(undertaking) not in items
    signatures = [b for b in context.blocks if b.type == "facts"][1:]
    assert [dict(b.rows)["Name"] for b in signatures] == ["Dele Adeyemi", "Jattinder Rai"]


def test_national_profile_uses_its_own_dispute_route(example: Example) -> None:
    data = example("notice")
    data["profile"] = "national"
    text = context_of(data).text()
    assert "under the Compact (England, 2010)" in text
    assert "Raised with the local Compact body" in text
    assert "Bexley Voluntary Service Council" not in text
    assert "(Section 4, Government undertaking 4.4)" in text


def test_clean_drops_control_characters_and_collapses_space() -> None:
    assert clean("a\x07b\x0c  c\n\td\x00") == "ab c d"


def test_a_programme_named_for_its_instrument_is_not_doubled(example: Example) -> None:
    data = example("notice")
    data["funding"]["programme"] = "Youth Activities Grant"
    context = context_of(data)
    assert context.title == "Notice of the end of funding: Youth Activities Grant, Bexley Age Well"
    assert "Grant grant" not in context.text() and "the Youth Activities Grant (" in context.text()


def test_a_reduction_letter_says_until_when_the_current_rate_is_paid(example: Example) -> None:
    data = example("notice")
    data["decision"].update(action="reduce", new_annual_value=33600,
                            summary="The Community Connect grant is reduced by 30%.")
    text = context_of(data).text()
    assert "Paid at the current rate until Sunday 28 February 2027" in text
    assert "Last day of funding" not in text and "The last day of funding" not in text
    assert "reduce the Community Connect grant to £33,600 a year" in text
    # its own ask: notice of any change to services, not a plan for the end of funding
    assert "If the reduction means changing your services" in text
    assert "three-months' notice about any changes to service provision" in text
    assert "Plan for the end of funding" not in text


def test_an_ending_letter_asks_for_a_plan_for_the_end_of_funding(example: Example) -> None:
    assert "Plan for the end of funding" in context_of(example("notice")).text()


def test_the_notice_and_the_funding_end_plan_agree_on_the_last_day(example: Example) -> None:
    notice = context_of(example("notice")).text()
    plan = context_of(example("funding-end-plan")).text()
    assert "Last day of funding Sunday 28 February 2027" in notice
    assert "Last day of funding Sunday 28 February 2027" in plan
    assert "The last day of funding is Sunday 28 February 2027" in plan
    assert "Funding ends Monday 1 March 2027" not in plan


def test_stage_1_quotes_only_what_applies_to_a_commissioned_organisation(example: Example) -> None:
    text = context_of(example("escalation-stage-1")).text()
    assert "resolve the issue informally" in text
    assert "Non-commissioned" not in text


def test_stage_2_says_stage_3_is_only_for_a_policy_decision(example: Example) -> None:
    text = context_of(example("escalation-stage-2")).text()
    assert "we will take it to stage 3" not in text
    assert ("The Compact takes a dispute on to stage 3 (Policy decision) only if a policy decision is "
            "required (Conflict Resolution, stage 3)") in text


def test_stage_3_to_the_organisations_own_board_uses_its_address(example: Example) -> None:
    data = example("escalation-stage-3")
    data["referred_to"] = ["vcs-governing-board"]
    context = context_of(data)
    address = next(b for b in context.blocks if b.type == "address")
    assert address.items == ("The Chair, governing board of Bexley Age Well", "12 Station Road",
                             "Sidcup", "DA15 7EX")
    assert "Dear Chair," in context.text()
    assert "to the governing board of Bexley Age Well for a policy decision" in context.text()


def test_stage_3_to_both_bodies(example: Example) -> None:
    data = example("escalation-stage-3")
    data["referred_to"] = ["vcs-governing-board", "strategic-commissioning-board"]
    text = context_of(data).text()
    assert "Dear Chairs," in text
    assert ("to the governing board of Bexley Age Well and the Strategic Commissioning Board for a "
            "policy decision") in text


def test_stage_3_without_a_named_body_is_refused(example: Example) -> None:
    from compact_docs.checks import check

    data = example("escalation-stage-3")
    del data["referred_to"]
    report = check(data)
    assert {f.code for f in report.errors} == {"REFERRAL"}
    assert report.errors[0].clause == "Conflict Resolution, stage 3"
    data["referred_to"] = ["cabinet"]
    assert "cabinet" in check(data).errors[0].message


def test_bvscs_voice_signs_for_bvsc_and_copies_the_organisation(example: Example) -> None:
    data = example("escalation-stage-2")
    data["voice"] = "dispute-body"
    data["issue"]["quoted_from"] = "Bexley Age Well's email to BVSC"
    context = context_of(data)
    text = context.text()
    assert context.blocks[0].text == "Bexley Voluntary Service Council"
    assert context.blocks[-2].items == ("Jattinder Rai", "Chief Executive", "Bexley Voluntary Service Council")
    assert "We are writing on behalf of Bexley Age Well" in text
    assert "Bexley Age Well's email to BVSC said:" in text
    assert "What Bexley Age Well is asking for" in text
    assert "Copy to: Jo Smith, Chief Executive (jo.smith@agewell.example), Bexley Age Well" in text
