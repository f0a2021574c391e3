"""The sender's own words: quoted history, signatures and disclaimers taken off."""

from __future__ import annotations

import pytest

from mailflows.replies import own_words, read_own_words


@pytest.mark.parametrize(("text", "expected"), [
    ("Still unpaid.\n\nOn Mon, 16 Nov 2026 at 10:02, BVSC <d@bvsc.example> wrote:\n> We opened a case.\n",
     "Still unpaid."),
    ("Please escalate.\n\nFrom: BVSC <d@bvsc.example>\nSent: 2 December 2026 10:00\nTo: Jo\n"
     "Subject: x\n\nWe have opened a complaint case.", "Please escalate."),
    ("New.\n-----Original Message-----\nOld complaint", "New."),
    ("Thanks.\n\n> On 3 Nov 2026, at 09:12, BVSC <d@bvsc.example> wrote:\n> a dispute\n", "Thanks."),
])
def test_quoted_history_is_left_out(text: str, expected: str) -> None:
    found = read_own_words(text)
    assert found.text == expected and found.quoted


@pytest.mark.parametrize("sign_off", ["Best wishes", "Many thanks", "Kind regards", "Warm regards",
                                      "Yours sincerely", "Yours faithfully", "Regards"])
def test_british_sign_offs_end_the_own_words(sign_off: str) -> None:
    text = (f"Our invoice is five weeks late.\n\n{sign_off},\nSam Patel\nHead of Service\n"
            "Sidcup Carers Centre\nThis email is confidential. Complaints: complaints@x.example\n")
    found = read_own_words(text)
    assert found.text == "Our invoice is five weeks late."
    assert "Head of Service" in found.signature and "signature" in found.removed


def test_a_thanks_at_the_start_of_a_paragraph_is_kept() -> None:
    text = "Hi,\n\nMany thanks for last week. The payment is still missing though.\n\nBest wishes\nJo"
    assert own_words(text) == "Hi,\n\nMany thanks for last week. The payment is still missing though."


def test_disclaimers_and_charity_footers_are_left_out() -> None:
    text = ("The grant has been cut without notice.\n\nSophie Akintola\nCrisis Cafe Manager\n\n"
            "Bexley Mind is a registered charity (no. 1094417). Disputes and complaints: see our site.\n")
    assert own_words(text) == "The grant has been cut without notice."
    caution = "CAUTION: This email originated from outside the organisation.\n\nWe object to the cut."
    assert "We object to the cut." in own_words(caution)


def test_a_name_block_without_a_sign_off_is_a_signature() -> None:
    text = "Dear BVSC\n\nWe have had no payment for Q2.\n\nSophie Akintola\nCrisis Cafe Manager\nBexley Mind"
    assert own_words(text) == "Dear BVSC\n\nWe have had no payment for Q2."


def test_a_short_message_is_kept_whole() -> None:
    assert own_words("Thanks, Jo") == "Thanks, Jo"
    assert own_words("did you get my voicemail? ring me after 4\n\nkev") == (
        "did you get my voicemail? ring me after 4")
    assert own_words("") == ""


def test_a_list_of_dash_items_is_the_senders_words_not_a_signature() -> None:
    text = ("Dear BVSC,\n\nFor each household the new template asks for:\n  - full name and date of birth\n"
            "  - full address and postcode\n\nOur trustees will not share this.\n\nThanks\n- Jo\n")
    own = read_own_words(text)
    assert "full address and postcode" in own.text and "trustees will not share" in own.text
    assert own.signature.endswith("- Jo")


@pytest.mark.parametrize("postscript", [
    "PS I did ring the grants line twice last week and nobody has called back.",
    "P.S. I did ring the grants line twice last week and nobody has called back.",
    "ps i did ring the grants line twice last week and nobody has called back",
])
def test_a_postscript_after_the_signature_is_the_senders_own_words(postscript: str) -> None:
    text = ("Dear BVSC,\n\nThe Q2 drawdown has not been paid.\n\nKind regards\nTunde\n\n"
            f"Tunde Oyelaran\nService Manager\nSidcup Carers Centre\n\n{postscript}\n")
    words = own_words(text)
    assert words.startswith("Dear BVSC,\n\nThe Q2 drawdown has not been paid.")
    assert words.endswith(postscript)
    assert "Service Manager" not in words


def test_a_word_beginning_with_ps_is_not_a_postscript() -> None:
    assert own_words("Hello,\n\nThe PS4 in the youth room is broken.\n\nJo") == \
        "Hello,\n\nThe PS4 in the youth room is broken."


def test_a_letter_pasted_in_with_to_and_cc_lines_is_the_senders_own_words() -> None:
    text = ("Please find below a letter from our Board.\n\nBEXLEY AGE WELL\n41 Broadway\n\n2 November 2026\n\n"
            "To: Head of Commissioning, London Borough of Bexley\ncc: BVSC; Cabinet Member for Adults\n\n"
            "Dear Mr Okafor,\n\nThe Council has decided not to renew the day opportunities grants.\n\n"
            "Yours sincerely,\n\nGeoffrey Lamb, Chair\n")
    found = read_own_words(text)
    assert "decided not to renew the day opportunities grants" in found.text
    assert not found.quoted and "Geoffrey Lamb" in found.signature


def test_a_polish_data_line_is_not_a_quoted_header() -> None:
    text = "Dzień dobry,\n\nData: 40 pól dla każdej osoby.\nTo jest za dużo.\n\nPozdrawiam,\nEwa\n"
    assert "To jest za dużo." in own_words(text)


def test_a_quoted_header_block_naming_its_sender_still_ends_the_own_words() -> None:
    text = ("Still nothing.\n\nSubject: Q2 payment\nDate: 2 October 2026\nFrom: Jo <jo@x.example>\n"
            "To: Finance\n\nPlease pay the invoice.\n")
    found = read_own_words(text)
    assert found.text == "Still nothing." and found.quoted


@pytest.mark.parametrize("sign_off", ["God bless", "Blessings"])
def test_a_confidentiality_footer_after_another_sign_off_is_left_out(sign_off: str) -> None:
    text = (f"The council will stop the money in December.\n\n{sign_off},\nFemi\n\nPastor Femi Adeyemi\n"
            "Project Manager\n\n----------\nCONFIDENTIALITY: This message is intended only for the addressee. "
            "Any complaint or dispute about our service should go to the Project Manager.\n")
    found = read_own_words(text)
    assert found.text == "The council will stop the money in December."
    assert "dispute" not in found.text


@pytest.mark.parametrize("opening", ["Thank you, and thank you to James for being so straightforward with us.",
                                     "Thanks, but the Q2 payment is still missing and payroll is on Friday."])
def test_a_thanks_that_opens_a_longer_line_is_no_sign_off(opening: str) -> None:
    # mail-parser-reply's own 'Thank you,' and 'Thanks,' match the start of any line; a reply
    # that opened so would lose everything the sender went on to say.
    text = (f"Dear Dominic,\n\n{opening}\n\nThe board has resolved to ask that the question be put to the "
            "Strategic Commissioning Board for a decision.\n\nBest wishes,\nFiona")
    words = own_words(text)
    assert opening in words and "Strategic Commissioning Board" in words and "Fiona" not in words


@pytest.mark.parametrize("sign_off", ["Thank you, and sorry again,", "With thanks and best wishes,",
                                      "Many thanks and sorry for going on"])
def test_a_sign_off_with_an_afterthought_at_the_end_is_left_out(sign_off: str) -> None:
    text = f"Our invoice is five weeks late.\n\n{sign_off}\nJanet\nTreasurer"
    assert own_words(text) == "Our invoice is five weeks late."
