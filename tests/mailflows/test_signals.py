"""The phrase lists: natural British English wording, negation, and configured phrases."""

from __future__ import annotations

import pytest

from compact_docs.rules.profile import load_profile
from mailflows.signals import Signals, compact_names, normalise, phrase_pattern

SIGNALS = Signals.defaults()


@pytest.mark.parametrize("text", [
    "Our invoice for the summer sessions still hasn't been paid.",
    "This is the third late payment this year.",
    "The monitoring returns are disproportionate to the size of the grant.",
    "The day centre was decommissioned without any consultation.",
    "We were given less than three months' notice.",
    "This is a clear breach of the Bexley Compact.",
    "We think the decision goes against the Compact.",
    "The council is cutting our grant by a third.",
    "We wish to appeal against the decision.",
    "Please treat this as a formal complaint.",
])
def test_dispute_wording(text: str) -> None:
    assert SIGNALS.find("dispute", text)


@pytest.mark.parametrize("text", [
    "Thank you for the workshop on the Compact.",
    "Three new funding opportunities for community groups.",
    "Could we meet to talk about signing the Compact?",
    "There is no dispute here, we just wanted to say thanks.",
])
def test_not_disputes(text: str) -> None:
    assert SIGNALS.find("dispute", text) == []


@pytest.mark.parametrize("text", [
    "We've already raised this with our commissioner and got nowhere.",
    "We already spoke to the contract manager twice.",
    "We met the commissioning manager in October but nothing changed.",
    "Despite chasing the finance team, nothing has happened.",
    "Informal discussions with the council have not worked.",
    "Our commissioner has not replied to three emails.",
    "We have not been able to resolve it between us.",
])
def test_tried_informal_wording(text: str) -> None:
    assert SIGNALS.find("tried_informal", text)


@pytest.mark.parametrize("text", [
    "We haven't yet raised this with our commissioner.",
    "We have not spoken to the commissioner about it and we will not be doing so until Monday.",
])
def test_negated_tried_informal(text: str) -> None:
    assert SIGNALS.find("tried_informal", text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("It is still not resolved, please escalate.", True),
    ("We need a senior officer to look at this.", True),
    ("A policy decision is needed.", True),
    ("Good news: it is sorted, so there is no need to escalate.", False),
    ("We had no reply and it's still unresolved.", True),
    ("Thanks, we will wait to hear from you.", False),
    # a policy decision asked for in other words
    ("It is the policy itself that needs looking at, by whoever makes the policy.", True),
    ("The committee would like it put to the cabinet member.", True),
    ("This now needs the board to decide what the policy is.", True),
    ("We would like a decision by the Strategic Commissioning Board.", True),
    ("We would like the criteria looked at again by whoever signs them off.", True),
    ("So we would like to ask the ICB board please to change this rule.", True),
    ("We would ask BVSC to request that the Cabinet Member reconsiders the withdrawal.", True),
    ("Our board meets on Thursday; I'll report back after.", False),
])
def test_escalation_wording(text: str, expected: bool) -> None:
    assert bool(SIGNALS.find("escalation", text)) is expected


def test_normalise_straightens_quotes_and_spaces() -> None:
    assert normalise("We’ve  \n ALREADY\u00a0raised") == "we've already raised"


def test_configured_phrases_add_to_defaults() -> None:
    signals = Signals.configured({"dispute": ["Funding Clawback"]})
    assert signals.find("dispute", "They want a funding   clawback.") == ["funding clawback"]
    assert signals.find("dispute", "A late payment.")


def test_configured_phrases_can_replace_defaults() -> None:
    signals = Signals.configured({"dispute": ["clawback"]}, replace=True)
    assert signals.find("dispute", "A late payment.") == []
    assert signals.find("dispute", "A clawback (again).") == ["clawback"]


def test_phrase_pattern_escapes_and_refuses_blank() -> None:
    assert phrase_pattern("a.b (c)") == r"(?<!\w)a\.b\s+\(c\)(?!\w)"
    with pytest.raises(ValueError):
        phrase_pattern("   ")


def test_escalation_words_inside_a_tried_informal_phrase_can_be_left_out() -> None:
    text = "Before writing to you we spoke to the council about it but got nowhere."
    assert "got nowhere" in SIGNALS.find("escalation", text)
    assert SIGNALS.find("tried_informal", text)
    assert SIGNALS.find("escalation", text, outside="tried_informal") == []
    # Escalation words of their own still count beside a tried-informal phrase.
    both = f"{text} It is still unresolved and needs a policy decision."
    found = SIGNALS.find("escalation", both, outside="tried_informal")
    assert {"still unresolved", "policy decision"} <= set(found) and "got nowhere" not in found


def test_the_compact_is_named_as_its_profile_names_it() -> None:
    bexley, national = load_profile("bexley"), load_profile("national")
    assert (compact_names(bexley), compact_names(national)) == (("bexley",), ("national",))
    assert Signals.defaults(national).find("dispute", "A breach of the National Compact.")
    assert not Signals.defaults(national).find("dispute", "A breach of the Bexley Compact.")
    assert Signals.defaults(national).find("dispute", "A breach of the local Compact.")
