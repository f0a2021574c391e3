"""Weighing a message's words: the profile's issue types as people say them."""

from __future__ import annotations

import pytest

from compact_docs.rules.profile import load_profile
from mailflows.weighing import find_issue_types, rule_names, said_outright

BEXLEY = load_profile("bexley")


@pytest.mark.parametrize(("text", "issue"), [
    ("The peer support service will cease on 31 March 2027.", "de-commissioning"),
    ("We were told our contract will be allowed to lapse in September.", "de-commissioning"),
    ("Existing specialist lunch grants will not be renewed.", "de-commissioning"),
    ("All carers' support will be brought together under a single lead provider.", "de-commissioning"),
    ("The ICB has issued a new quarterly data set for the counselling contract.", "monitoring"),
    ("Our contract manager has asked for six case studies a quarter.", "monitoring"),
    ("From October we're asked to provide, for every person trained, their name and employer.", "monitoring"),
    ("Our Q2 payment is now five weeks late.", "late-payment"),
])
def test_the_profiles_issue_types_know_how_people_say_them(text: str, issue: str) -> None:
    assert [found.id for found in find_issue_types(BEXLEY, text)] == [issue]


@pytest.mark.parametrize("text", [
    "Our respite grant will end on 18 December, with four weeks' notice.",  # a short notice: stage 1
    "We send the invoice for each session.", "The hall is closed for two weeks in August.",
])
def test_a_cut_or_an_invoice_is_not_a_stage_2_issue_type(text: str) -> None:
    assert not [f for f in find_issue_types(BEXLEY, text) if f.id != "late-payment"]



@pytest.mark.parametrize("text", ["We'd like to raise a complaint about the late payments.",
                                  "I want to lodge a formal objection to the new template."])
def test_a_dispute_said_outright_in_the_first_person(text: str) -> None:
    dispute, _tried = said_outright(text)
    assert dispute


def test_asking_for_someone_more_senior_is_a_rule_the_models_weigh() -> None:
    assert "asks-senior" in rule_names((), (), (), "Please could BVSC take this further with someone more senior?")
    assert "asks-senior" not in rule_names((), (), (), "Our chief executive wrote to the council last week.")
