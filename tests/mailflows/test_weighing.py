"""Weighing a message's words: the profile's issue types as people say them."""

from __future__ import annotations

import pytest

from compact_docs.rules.profile import load_profile
from mailflows.weighing import find_issue_types, rule_names, said_outright, tried_concepts, words_to_weigh

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
    ("They will hold our payment until we provide, for every attendee, their postcode.", "monitoring"),
    ("The council does not intend to renew our grant when it ends in March.", "de-commissioning"),
    ("There will be one contract and the council will choose one provider.", "de-commissioning"),
    ("The quarterly return must now show staff time broken down against each individual carer.",
     "monitoring"),
    ("From April the lunch club service will be re-let to a single provider.", "de-commissioning"),
    ("The council is taking the advice work away from us and giving it to another charity.", "de-commissioning"),
    ("From next year the drop-in will be run by the NHS trust.", "de-commissioning"),
    ("Our day club contract ends in March and will be replaced by a universal offer.", "de-commissioning"),
    ("The meals contract is going out to the market in January.", "de-commissioning"),
    ("Everyone collecting a parcel will have to show photo ID and we must keep a copy.", "monitoring"),
    ("The portal has 40 mandatory fields for each phone call.", "monitoring"),
    ("Two officers will audit a sample of our counselling case files every quarter.", "monitoring"),
    ("The council wants a GPS log of every journey our drivers make.", "monitoring"),
    ("The quarterly return is now a workbook of 60 indicators.", "monitoring"),
    ("The extension adds unannounced visits by a mystery shopper.", "monitoring"),
    ("The council will stop our grant in March and put the money into a council-run pantry.", "de-commissioning"),
    ("From next summer our day centre will be \"joined\" with the council's centre in Erith.", "de-commissioning"),
    ("Our befriending grant will therefore not continue beyond 31 March.", "de-commissioning"),
    ("Every carer must sign the sheet with full name, address and phone number.", "monitoring"),
    ("The council now want us to send school attendance for every young carer we support.", "monitoring"),
    # a grant ended for good, however short its notice (the corpus writers label it stage 2)
    ("Our respite grant will end on 18 December, with four weeks' notice.", "de-commissioning"),
    ("The council has decided not to continue funding the service beyond December.", "de-commissioning"),
    ("The vouchers will go out through one national company instead of through us.", "de-commissioning"),
    ("Telephone befriending is being taken over by the council's own team.", "de-commissioning"),
    ("They plan to bring all carers' assessments back into the Adult Social Care front door.", "de-commissioning"),
    ("All the small day centre grants will be put together into one contract and tendered.", "de-commissioning"),
    ("The budget line goes from \u00a3126,000 this year to nil next year.", "de-commissioning"),
    ("Every carer who gets a break has to complete a 30-question online survey.", "monitoring"),
    ("We will not be handing over people's details without their consent.", "monitoring"),
    ("The holiday food money is going straight to schools and not through us any more.", "de-commissioning"),
    ("Helen says the council is taking it back in house from January.", "de-commissioning"),
    ("The letter says this will be the final year of funding for this activity.", "de-commissioning"),
    ("It looks as though the breaks grant is just being allowed to run out.", "de-commissioning"),
    ("The contract is going to transfer to the South London Food Partnership.", "de-commissioning"),
    ("An officer will attend one session of each group every quarter to observe delivery.", "monitoring"),
    ("From January all equalities fields on the new registration form will be mandatory.", "monitoring"),
    ("The press release says it will bring emergency food provision in-house from April.", "de-commissioning"),
    ("Letter say our lunch service finish end of march, money stop.", "de-commissioning"),
    ("Our warm hub contract isnt being renewed, its going into one big community support lot.", "de-commissioning"),
    ("From January every contact must be recorded in the council's case management system.", "monitoring"),
    ("For renewal the grants team is now asking for audited accounts and bank statements.", "monitoring"),
    ("The council is going to hand its emergency food support contract to a national provider.", "de-commissioning"),
    ("Every person attending the walks and the allotment group has to complete a 14 question scale.", "monitoring"),
    ("The council now wants every befriending phone call logged on their case management system.", "monitoring"),
    ("The letter says our day centre contract will go to open tender next April.", "de-commissioning"),
    ("The ICB is moving talking therapies under a single national \"lead provider\".", "de-commissioning"),
    ("Our contract will be ended on three months' notice.", "de-commissioning"),
    ("The centre is to close in April and be joined with the Sikh centre.", "de-commissioning"),
    ("With effect from 1 January, Lot 2 (Home Delivery) will be removed from the contract scope.", "de-commissioning"),
    ("The variation removes the handyperson element altogether from 1 December.", "de-commissioning"),
    ("The commissioner said the pilot won't be going forward next year.", "de-commissioning"),
    ("From April our lunch sessions will no longer be funded as a separate grant.", "de-commissioning"),
    ("Council have stopped our fresh food contract from April, no meeting, just a letter.", "de-commissioning"),
    ("The holiday programme has been awarded to a national activities company for next year.", "de-commissioning"),
    ("The grant stream is closing on 31 March and will not be replaced.", "de-commissioning"),
    ("The discharge team is \"absorbing it\" into the NHS community health service.", "de-commissioning"),
    ("Tab 5 wants an outcome narrative for each of our 212 service users, every quarter.", "monitoring"),
    ("The new return has 64 questions over five tabs.", "monitoring"),
    ("From December we'll need to record the health conditions of every person who collects a food parcel.",
     "monitoring"),
    ("We must upload it to the ICB's dashboard each month, with their NHS number where known.", "monitoring"),
    ("The framework says we have to commission an external evaluator, paid out of the grant.", "monitoring"),
    ("From November our outcomes report has to be submitted weekly rather than monthly.", "monitoring"),
    ("The young carers part of our contract is being stopped from 31 October.", "de-commissioning"),
    ("Janet says we should come to BVSC as this is the council ending a service.", "de-commissioning"),
    ("Our community arts grant (awarded in July, £750) has been cancelled because the fund is closed.",
     "de-commissioning"),
])
def test_the_profiles_issue_types_know_how_people_say_them(text: str, issue: str) -> None:
    assert [found.id for found in find_issue_types(BEXLEY, text)] == [issue]


@pytest.mark.parametrize("text", [
    "The GPs, schools and health visitors have all been told to refer through the portal.",  # doctors, not trackers
    "Every member of staff and every volunteer at the centre must complete the safeguarding course.",
    "The ICB's new supplier management portal went live on 1 September, and every invoice is now late.",
    "The new finance system means we must upload every invoice twice.",
    "The contract variation mentions procurement rules for the minibus.",
    "We send the invoice for each session.", "The hall is closed for two weeks in August.",
    "Parking services say our visitor permits will not be renewed in September.",
    "The council now wants enhanced DBS checks for every volunteer.",
    "From Friday the housing team will stop issuing paper vouchers and will instead send e-referrals.",
    "The October payment under our contract was sent to our old account: we moved to a charity account in July.",
    "The council has stopped our grant payments until the report is in.",
    "Property services say the peppercorn arrangement on our contract's warehouse will not be renewed.",
    "The contract monitoring officer says a new condition is food hygiene certificates for every cook.",
    "Not sure this is the right address but BVSC gave it to us at the forum.",
    "Every volunteer with client contact must complete eleven statutory training modules by March.",
    "We must register the association on the new grants portal and upload our constitution by 30 November.",
    "The new specification requires a GP referral for every new client from January.",
    "The quarterly contract review with the ICB was cancelled the day before.",
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
    assert "asks-senior" not in rule_names((), (), (), "James (Head of Service) says he will ask the council.")
    assert "asks-senior" in rule_names((), (), (), "Please can you go above the transport officer, to whoever is "
                                                   "her manager or higher.")
    assert "asks-senior" in rule_names((), (), (), "We'd like BVSC to take this to someone who has the authority.")
    assert "asks-senior" not in rule_names((), (), (), "The next level 3 safeguarding courses are in November.")


@pytest.mark.parametrize("text", [
    "I emailed Sandra three times and left two voicemails, nothing came back.",
    "The meeting was cancelled the day before, and then again in September.",
    "Highways told us to ask parks, parks sent us back to highways: each one is sending us to the other.",
    "Her replacement says there is no record of any agreement and she won't discuss it further.",
    "We've been fobbed off since the summer.",
    "He said he would call me. That was two months ago and he has not called and his office does not answer.",
    "We've been emailing the generic inbox since July, which sends an automatic reply and that's it.",
    "Commissioner not replying since June. The DBS costs were never agreed.",
    "The officer said she would come back to us in October. Nobody did.",
    "We raised it at the quarterly review, where it was parked, and since then nothing.",
    "PS I did ask our contract manager first; she says it has gone above her.",
    "Subject: grant Q2 - 3rd chaser",
    "Finance say it's commissioning, commissioning say it's finance, round we go.",
    "I phone him many times and leave messages. Nobody call back.",
    "We wrote again on 2 October and again last week.",
    "Since March we have been told at every turn that it is under review.",
    "I rang Nicola in grants; she said the decision was above her pay grade.",
    "I don't think there's anything more we can do at officer level.",
    "So we are being sent from one to the other and nobody is paying.",
    "The ticket has been closed with the note 'please contact your commissioner'.",
    "The council officer did not come to either of the last two meetings you set up.",
    "She said she would take it away. That was the last we heard.",
    "Emailed Sharon twice, nada.",
    "I sent both emails to each of them. Neither has replied since.",
    "I have an email from each saying it's the other one's grant.",
    "We go to council office two times, also my son phone them. They say wait. Nobody call.",
    "Since September I have asked three different people at the council who pays for interpreters.",
    "Every reply says it's being looked at; we've gone as far as we can with the contracts team.",
    "The officer promised she would find us another room by Friday. That was four Fridays ago.",
    "I can't get anyone in the estates team or at the ICB to pick up the phone about it.",
    "They have come out of each meeting with sympathy and nothing else.",
    "Each month since July the answer from the grants team has been 'next month'.",
    "We asked for the papers in Punjabi. The reply said the format cannot be changed.",
    "I explained it to the contract manager. Her answer came back yesterday: no exceptions.",
    "I emailed the grants team a month ago and haven't had so much as an acknowledgement.",
    "The two voicemails I left on the team number weren't returned.",
    "I emailed Karen about the claim in September. Six weeks and not a word back.",
    "I took it up with the ICB directly. I've now had the reply, and it's a closed door.",
    "We asked for April, we offered fortnightly Saturdays. All turned down. That's their final word apparently.",
    "I raised it with the commissioner; the reduction is not something she can change.",
    "I have written to the contracts officer on three occasions. She is yet to respond to any of these letters.",
])
def test_a_failed_attempt_told_in_passing_is_a_tried_concept(text: str) -> None:
    assert tried_concepts(text)


@pytest.mark.parametrize("text", [
    "Our befriending grant has been reduced by a fifth and nobody has explained why.",
    "The council cancelled our Tuesday minibus for all of December.",
    "We will ring the commissioner on Monday to ask about the late payment.",
    "I'm writing about a late payment. Our invoice was sent on 1 October and has still not been paid.",
    "I'm emailing about a late payment. Our invoice has still not been paid.",
    "Our coordinator will take it up with the council tomorrow and phone them again on Monday.",
    "It fell through twice in August, and I'll be ringing Paul at 9am tomorrow.",
    "We haven't chased the grants team yet, and nobody has told us there's a delay.",
    "I emailed the grants team about the form, and nobody has told us anything about a delay.",
    "The council emailed us on Monday; our classes meet twice a week there.",
    "The grants officer emailed to say payments will be quarterly. I haven't replied yet.",
    "The council wrote to say we must register as suppliers, but I've never heard of the portal.",
    "The ICB asked all its providers to register. Our registration has been rejected twice.",
    "We invoiced on 4 August with the attendance figures they asked for. Nothing has been paid yet.",
    "We had a letter on Monday. We've got nowhere to put the stock in 7 days.",
    "Our lunch club has met at the centre for nine years. Nobody has suggested an alternative hall.",
    "Our secretary has already emailed the bookings team this afternoon and we are waiting what they say.",
])
def test_the_problem_itself_is_not_a_failed_attempt(text: str) -> None:
    assert not tried_concepts(text)


def test_a_text_in_another_language_is_weighed_on_its_english_lines() -> None:
    text = ("ਮਿੰਨੀ ਬੱਸ / minibus for elders.\nਕੌਂਸਲ ਨੇ ਸਤੰਬਰ ਤੋਂ ਮੰਗਲਵਾਰ ਅਤੇ ਵੀਰਵਾਰ ਵਾਲੀ ਮਿੰਨੀ ਬੱਸ ਬੰਦ ਕਰ ਦਿੱਤੀ ਹੈ। "
            "ਹੁਣ ਬਹੁਤ ਸਾਰੇ ਬਜ਼ੁਰਗ ਆ ਹੀ ਨਹੀਂ ਸਕਦੇ। ਟਰਾਂਸਪੋਰਟ ਮੈਨੇਜਰ ਨਾਲ ਦੋ ਵਾਰ ਮੀਟਿੰਗ ਰੱਖੀ ਗਈ।\n"
            "In English: the council has stopped the minibus that our grant says it provides.")
    weighed = words_to_weigh(text)
    assert "minibus for elders" in weighed and "the council has stopped the minibus" in weighed
    assert "ਕੌਂਸਲ" not in weighed
    english = "Our Q2 payment is now five weeks late and nobody has said why."
    assert words_to_weigh(english) == english
    only_polish = "Szanowni Państwo, piszę w imieniu szkoły. Od października opłaty za sale wzrosły dwukrotnie."
    assert words_to_weigh(only_polish) == only_polish


@pytest.mark.parametrize(("text", "rule"), [
    ("A question, not a complaint. Is this a Compact issue? Or do we just sign it?", "other-question"),
    ("Hi, how much notice does the Compact say we should give? Just planning ahead.", "other-question"),
    ("Thank you so much for sorting out the hall last month.", "other-thanks"),
    ("You are warmly invited to our Diwali celebration on 8 November.", "other-invitation"),
    ("I'd like to volunteer with BVSC on Saturdays.", "other-volunteer"),
    ("Please update your records: I have left Age Well and Priya is my successor.", "other-contact-change"),
    ("Could BVSC write a letter of support for our Lottery bid?", "other-support-letter"),
    ("Can I book two places on the trustee course?", "other-booking"),
])
def test_what_else_a_person_writes_is_a_rule_weighed_against_a_dispute(text: str, rule: str) -> None:
    assert rule in rule_names((), (), (), text)


def test_a_short_thank_you_for_a_settled_matter_is_weighed_against_a_dispute() -> None:
    thanks = ("Re: Q2 grant - £1,250 missing with no explanation.\nMorning - just to say the missing £1,250 "
              "turned up on Friday. So all good, and thanks for chasing it for us.")
    assert "other-settled" in rule_names((), (), (), thanks)
    closed = ("RE: Late payment - carers contract (ICB).\nJust to close the loop - the ICB's payment arrived in "
              "full this morning. So no further action needed, and thank you.")
    assert "other-settled" in rule_names((), (), (), closed)
    funds = ("Re: Q2 grant instalment not received.\nI am pleased to say that the funds arrived in our account this "
             "morning. Thank you for your help; as far as we are concerned the matter can be closed.")
    assert "other-settled" in rule_names((), (), (), funds)
    late = ("November payment.\nHi, the council's November payment hasn't arrived (usually comes on the first "
            "working day of the month) - can you advise? Thanks")
    assert "other-settled" not in rule_names((), (), (), late)
    topup = ("Re: Compact awareness session.\nThanks Lucy, will try to get someone along. While I have you - the "
             "top-up the council agreed for us in August still hasn't come through. Can someone look?")
    assert "other-settled" not in rule_names((), (), (), topup)
    # past the subject line, and only in a short message: a longer one goes on to something new
    assert "other-settled" not in rule_names((), (), (), "Thanks - payment arrived today.\nOur hall has gone.")
    longer = thanks + " Something else has come up: " + "the council has let our hall to another group " * 8
    assert "other-settled" not in rule_names((), (), (), longer)


def test_a_dispute_that_asks_for_help_is_not_a_question_about_the_compact() -> None:
    assert not [r for r in rule_names((), (), (), "Our payment is eight weeks late. Can BVSC help?")
                if r.startswith("other-")]


@pytest.mark.parametrize(("pattern", "word_start"), [
    (r"\b(?:late|overdue)", True), (r"\b(?:staff )?timesheets?", True), (r"\b(?<!not )(?:rang|wrote)", True),
    (r"(?:\bfoo)|(?:\bbar)", True), (r"(?:\bfoo)|(?:bar)", False),
    (r'\b"quoted', False), (r"\b(?:x)?", False), (r"late\b", False), (r"\bfoo|bar", False), (r"\b[^a]", False),
])
def test_a_pattern_is_tried_only_at_word_starts_when_it_can_only_match_there(pattern: str, word_start: bool) -> None:
    from mailflows.word_starts import starts_a_word
    assert starts_a_word(pattern) is word_start


def test_the_issue_alternation_finds_what_the_patterns_find_one_by_one() -> None:
    import re

    from mailflows.signals import normalise
    from mailflows.weighing import _issue_patterns
    texts = [normalise(t) for t in ("Our Q2 payment is now five weeks late.", "The vouchers will go out through one "
             "company instead of through us.", "They want postcodes for every attendee.", "Nothing to see here.")]
    for issue, (joined,), _unless in _issue_patterns(BEXLEY):
        patterns = [re.compile(p) for t in BEXLEY.dispute.issue_types if t.id == issue for p in t.patterns]
        for text in texts:
            assert bool(joined.search(text)) == any(p.search(text) for p in patterns)
