"""Automatic mail: marks that ignore a message on their own, and hints that do not."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from testdata import MAIL

from mailflows.automatic import automatic_reasons, is_newsletter, list_hints
from mailflows.config import require_config
from mailflows.parsing import parse_message
from mailflows.route import classify

CONFIG = require_config(MAIL / "compact.toml")


def message(subject: str, body: str = "Our invoice is five weeks late.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jo Smith <jo.smith@agewell.example>"
    msg["To"] = "disputes@bvsc.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<auto-test@agewell.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize("subject", [
    "Automatic reply: Q2 payment", "Out of Office: Q2 payment", "Out of office AutoReply: grant",
    "Abwesenheitsnotiz: Zahlung", "Réponse automatique : paiement", "Odpowiedź automatyczna: płatność",
    "Ateb awtomatig: taliad", "Autosvar: betaling", "Auto-reply: invoice", "RE: Automatic reply: x",
    "Ticket Received - Query regarding Q3 invoice", "Accepted: Compact meeting",
    "Delivered: Q2 payment", "Read receipt: Q2 payment", "Payment [Automatic reply]", "Grant (Out of Office)",
    "Jo Smith is out of the office.", "Automatická odpověď: platba", "Otomatik yanıt: ödeme",
    "Resposta automática: pagamento", "Automaattinen vastaus: maksu", "Автоматический ответ: платёж",
    "自动回复: 付款", "Nicht zustellbar: Zahlung", "Non remis : paiement",
    "Warning: could not send message for past 4 hours", "Spam Quarantine Summary - 3 new messages",
    "Mimecast Hold Notification", "Your request #4471 has been received",
])
def test_an_auto_reply_marked_only_by_its_subject_is_ignored(subject: str) -> None:
    parsed = parse_message(message(subject, "I am away until Monday."))
    assert automatic_reasons(parsed), subject
    assert classify(parsed, CONFIG).disposition == "ignored"


@pytest.mark.parametrize("subject", ["Out of office hours service cut", "Reading group room",
                                     "Automatically renewed contract ended early"])
def test_a_persons_subject_is_not_an_auto_reply(subject: str) -> None:
    assert automatic_reasons(parse_message(message(subject))) == []


@pytest.mark.parametrize("sender", ["noreply@order.eventbrite.example", "no-reply@sharepointonline.example",
                                    "do_not_reply@surveys.example", "notifications@calendly.example",
                                    "calendar-notification@google.example", "quarantine@mimecast.example"])
def test_mail_from_an_address_no_person_writes_from_is_ignored(sender: str) -> None:
    raw = message("Your order", "Here are your tickets for the Compact forum.").replace(
        b"jo.smith@agewell.example", sender.encode())
    parsed = parse_message(raw)
    assert any("no person writes from" in r or "mail system" in r for r in automatic_reasons(parsed))
    assert classify(parsed, CONFIG).disposition == "ignored"


def test_a_web_form_relaying_a_person_is_read_for_what_the_person_wrote() -> None:
    raw = message("Web form: payment", "Name: Jo Smith\nMessage: Our Q2 payment is five weeks late.",
                  Reply_To="Jo Smith <jo.smith@agewell.example>").replace(
        b"From: Jo Smith <jo.smith@agewell.example>", b"From: Age Well <noreply-forms@agewell.example>")
    assert automatic_reasons(parse_message(raw)) == []


@pytest.mark.parametrize("subject", ['Sarah Whitfield shared "Provider returns Q2" with you',
                                     "Sarah Whitfield shared a folder with you",
                                     "Sarah Whitfield commented on Q2 returns.xlsx",
                                     "Please DocuSign: Grant agreement 2027"])
def test_a_sharing_notice_is_the_machines_mail_though_its_reply_to_is_a_person(subject: str) -> None:
    raw = message(subject, "Here's the folder that Sarah Whitfield shared with you.",
                  Reply_To="Sarah Whitfield <sarah.whitfield@bexley.example>").replace(
        b"From: Jo Smith <jo.smith@agewell.example>",
        b"From: Sarah Whitfield (via SharePoint Online) <no-reply@sharepointonline.example>")
    parsed = parse_message(raw)
    assert any("sharing or signing notice" in r for r in automatic_reasons(parsed))
    assert classify(parsed, CONFIG).disposition == "ignored"


@pytest.mark.parametrize("body", [
    "This is an automated message. Your enquiry has been logged with reference 5531.",
    "Please do not reply to this email. You have a new document waiting in SharePoint.",
    "This mailbox is not monitored. For payments please ring the finance team.",
    "This inbox is no longer being monitored. Please use the online form.",
])
def test_a_message_that_opens_as_only_a_machine_writes_is_ignored(body: str) -> None:
    assert automatic_reasons(parse_message(message("Q2 payment", body)))


def test_a_person_who_quotes_a_machine_is_not_a_machine() -> None:
    body = ("Our Q2 payment is five weeks late. All we get from finance is 'this is an automated "
            "message' and then nothing.")
    parsed = parse_message(message("Q2 payment", body))
    assert automatic_reasons(parsed) == []
    assert classify(parsed, CONFIG).disposition == "stage-1"


@pytest.mark.parametrize("header", ["X_MC_User", "X_CSA_Complaints", "X_Campaign"])
def test_a_bulk_mailers_own_header_marks_a_newsletter(header: str) -> None:
    parsed = parse_message(message("Autumn news from the forum", "Read our autumn news.", **{header: "abc123"}))
    assert automatic_reasons(parsed)


@pytest.mark.parametrize("headers", [
    {"X_Auto_Response_Suppress": "All"}, {"List_Id": "<disputes.bvsc.example>"},
    {"Precedence": "list", "List_Id": "<group.bvsc.example>"},
    {"Precedence": "bulk", "List_Id": "<food-partners.googlegroups.example>"},
])
def test_hints_alone_leave_a_persons_dispute_routed_but_not_acknowledged(headers: dict[str, str]) -> None:
    parsed = parse_message(message("Q2 payment", "Our Q2 payment is now five weeks late.", **headers))
    assert automatic_reasons(parsed) == [] and list_hints(parsed)
    decision = classify(parsed, CONFIG)
    assert decision.disposition == "stage-1", decision.reasons
    assert decision.acknowledge is False


def test_a_newsletter_is_ignored_but_a_person_writing_through_a_list_is_not() -> None:
    hints = ["List-Id present", "List-Unsubscribe present"]
    assert is_newsletter(hints, "vcs-forum-request@lists.bvsc.example", known_sender=False)
    assert is_newsletter(hints, "news@charityweekly.example", known_sender=False)
    assert not is_newsletter(hints, "jo.smith@agewell.example", known_sender=True)
    assert not is_newsletter(["List-Id present"], "forum@lists.bvsc.example", known_sender=False)
    digest = classify(parse_message((MAIL / "messages" / "26-mailing-list.eml").read_bytes()), CONFIG)
    assert digest.disposition == "ignored" and "newsletter or digest" in digest.reasons[-1]


@pytest.mark.parametrize("subject", ["FW: Automatic reply: Invoice 2231", "Fwd: Delivery Status Notification (Failure)",
                                     "FW: Undeliverable: hall hire"])
def test_a_person_forwarding_a_machines_mail_is_read_for_what_they_wrote(subject: str) -> None:
    body = "Can you help? The council's finance inbox bounces and our Q2 payment is five weeks late."
    parsed = parse_message(message(subject, body))
    assert automatic_reasons(parsed) == []
    assert classify(parsed, CONFIG).disposition == "stage-1"


def test_a_forward_with_no_words_of_its_own_is_still_the_machines_mail() -> None:
    body = ("-----Original Message-----\nFrom: Jo Smith <jo.smith@agewell.example>\nSent: 3 November 2026\n"
            "Subject: Automatic reply: Q2 payment\n\nI am away until Monday.")
    assert automatic_reasons(parse_message(message("FW: Automatic reply: Q2 payment", body)))


@pytest.mark.parametrize("forwarded", [
    "From: London Borough of Bexley <news@bexley.example>\nSubject: Community Matters - October 2026\n\nThis month...",
    "From: Eventbrite <noreply@order.eventbrite.example>\nSubject: Your tickets\n\nYour order is confirmed.",
])
def test_a_newsletter_forwarded_without_a_word_is_still_the_machines_mail(forwarded: str) -> None:
    body = "Sent from my iPhone\n\n---------- Forwarded message ---------\n" + forwarded
    assert automatic_reasons(parse_message(message("Fwd: Community Matters - October 2026", body)))


def test_a_scan_or_a_persons_message_forwarded_without_a_word_is_read() -> None:
    for sender in ("Scanner <scanner@bexley.example>", "Jo Smith <jo.smith@agewell.example>"):
        body = f"---------- Forwarded message ---------\nFrom: {sender}\nSubject: Q2 payment\n\nOur Q2 payment is late."
        assert not automatic_reasons(parse_message(message("Fwd: Q2 payment", body)))


def test_auto_submitted_is_a_mark_even_with_a_persons_reply_to() -> None:
    # a SharePoint or DocuSign notice carries the person's Reply-To too: RFC 3834's header decides
    raw = message("Julie shared a folder with you", "Here is the folder we discussed.",
                  Auto_Submitted="auto-generated", Reply_To="Julie <julie@bexley.example>")
    assert automatic_reasons(parse_message(raw))


def test_a_mailing_lists_digest_is_ignored_but_a_reply_to_it_is_read() -> None:
    subject = "[Bexley VCS Forum] Digest for forum@groups.example - 3 updates in 2 topics"
    body = "Today's topic summary. Our payment is late, says one post."
    parsed = parse_message(message(subject, body, List_Id="<forum.groups.example>", Precedence="list"))
    assert any("digest" in r for r in automatic_reasons(parsed))
    reply = parse_message(message("Re: " + subject, body, List_Id="<forum.groups.example>"))
    assert automatic_reasons(reply) == []


@pytest.mark.parametrize("body", [
    "Thank you for your email.\n\nI am currently away and will return on Monday 16 November. I will deal "
    "with your email then.\n\nKind regards\nPaul",
    "Dziękuję za wiadomość.\n\nHello, thank you for your message. I am on leave until 2 November without "
    "access to email. For urgent matters please contact the school office.",
])
def test_an_away_reply_marked_only_by_its_words_is_ignored(body: str) -> None:
    assert automatic_reasons(parse_message(message("Re: Notes from Thursday", body)))


@pytest.mark.parametrize("body", [
    "I'm away until Monday but wanted to flag that our Q2 payment is five weeks late. Jo",
    "Thank you for your email. I am on leave next week, so please can we move the meeting to the 20th?\n\n"
    "Our Q2 payment is still five weeks late and the treasurer is worried.",
])
def test_a_person_who_mentions_being_away_is_read(body: str) -> None:
    assert automatic_reasons(parse_message(message("Q2 payment", body))) == []


@pytest.mark.parametrize(("sender", "name"), [
    ("ap-noreply@bexley.example", "Accounts Payable"),
    ("comments-noreply@docs.google.example", "Fran (Google Docs)"),
    ("charity.commission@notifications.service.gov.example", "Charity Commission"),
    ("dse_NA3@docusign.example", "Margaret Lowe via DocuSign"),
    ("scanner@bvsc.example", "Xerox WorkCentre"),
])
def test_machine_senders_by_prefix_domain_or_service_name(sender: str, name: str) -> None:
    raw = message("Remittance advice 44120", "Payment of 4,200.00 has been made to your account.").replace(
        b"Jo Smith <jo.smith@agewell.example>", f"{name} <{sender}>".encode())
    assert automatic_reasons(parse_message(raw))


def test_a_docusign_envelope_is_the_machines_mail_though_its_reply_to_is_a_person() -> None:
    raw = message("Please DocuSign: Compact Champions MoU.pdf", "Margaret Lowe sent you a document to review and sign.",
                  Reply_To="Margaret Lowe <margaret.lowe@agewell.example>").replace(
        b"Jo Smith <jo.smith@agewell.example>", b"Margaret Lowe via DocuSign <dse_NA3@docusign.example>")
    assert classify(parse_message(raw), CONFIG).disposition == "ignored"


def test_an_outlook_recall_is_the_machines_mail() -> None:
    body = 'HOLLIS, Karen would like to recall the message, "Bexley Mind - draft contract variation letter".'
    assert any("recall" in r for r in automatic_reasons(parse_message(message("Recall: draft letter", body))))
    assert automatic_reasons(parse_message(message("Recall: the minibus we lost", "Do you recall the minibus?"))) == []


def test_an_away_note_that_passes_work_to_someone_else_is_ignored() -> None:
    body = ("I'm away walking the coast path until the 21st and there's no signal on most of it.\n\n"
            "Anything for the Lunch Club committee please send to Pat.\n\nRon")
    assert automatic_reasons(parse_message(message("away from my mail", body)))


def test_one_click_unsubscribe_on_a_persons_own_address_is_a_hint_not_a_mark() -> None:
    person = message("Invoice AW-2026-114", "Our invoice for the Q2 befriending contract has not been paid.",
                     List_Unsubscribe="<https://crm.example/u/1>", List_Unsubscribe_Post="List-Unsubscribe=One-Click")
    parsed = parse_message(person)
    assert automatic_reasons(parsed) == [] and list_hints(parsed)
    newsletter = person.replace(b"Jo Smith <jo.smith@agewell.example>", b"Age Well <news@agewell.example>")
    assert automatic_reasons(parse_message(newsletter))


def test_a_person_answering_an_auto_reply_is_read() -> None:
    body = ("Owen here. Karen is away so can BVSC please chase the ICB: the MHST Q2 payment is now six weeks "
            "late and the contract variation has still not been signed.\n\n"
            "From: Karen Hollis\nSent: 3 November 2026\nSubject: Automatic reply: MHST contract\n\n"
            "I am out of the office until 16 November.")
    assert automatic_reasons(parse_message(message("RE: Automatic reply: MHST contract", body))) == []
    away = "Thank you for your email. I am away until Monday and will reply on my return."
    assert automatic_reasons(parse_message(message("RE: Automatic reply: MHST contract", away)))


def test_a_bulletin_sent_in_bulk_from_an_organisations_address_is_a_newsletter() -> None:
    hints = ["List-Id present", "List-Unsubscribe present", "Precedence: bulk"]
    assert is_newsletter(hints, "communitybulletin@bexley.example", False, "Bexley Council Community Bulletin")
    assert not is_newsletter(hints, "jo.smith@forum.example", False, "Jo Smith")
    assert not is_newsletter(hints[:2], "communitybulletin@bexley.example", False, "Bexley Council Community Bulletin")


def test_an_unmonitored_mailboxs_thanks_is_the_machines_mail() -> None:
    body = ("Thank you for contacting the London Borough of Bexley Lettings Service.\n\nThis mailbox is not "
            "monitored. Your email has not been read and will not be forwarded.")
    assert automatic_reasons(parse_message(message("RE: School hall on Saturdays", body)))


@pytest.mark.parametrize("body", [
    "ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ ਜੀ,\n\nਮੈਂ 12 ਅਕਤੂਬਰ ਤੱਕ ਪੰਜਾਬ ਗਿਆ ਹੋਇਆ ਹਾਂ। ਮੈਂ ਛੁੱਟੀ ਤੇ ਹਾਂ। ਜ਼ਰੂਰੀ ਕੰਮ ਲਈ 07700 900233 ਤੇ ਫ਼ੋਨ ਕਰੋ।",
    "السلام علیکم،\n\nآپ کی ای میل کا شکریہ۔ میں 2 نومبر تک چھٹی پر ہوں اور ای میل نہیں دیکھ پاؤں گی۔",
    "Dzień dobry,\n\njestem na urlopie do dnia 14 listopada. W pilnych sprawach proszę dzwonić do biura.",
    "Hi, I'm off until Mon 12th Oct and not checking emails. For anything about Thursday lunches please "
    "ring Pat on 07700 900145. Thanks, Jo",
])
def test_an_away_note_with_no_marks_in_any_language_is_ignored(body: str) -> None:
    assert automatic_reasons(parse_message(message("Re: Day centre payment Q2", body)))


def test_a_dispute_in_another_language_that_mentions_leave_is_read() -> None:
    body = ("Szanowni Państwo, od października rada podwoiła opłaty za sale. Pisaliśmy trzy razy i nie "
            "dostaliśmy odpowiedzi. Nasza nauczycielka jest na urlopie do dnia 14 listopada, ale szkoła "
            "musi zapłacić 1200 funtów do końca miesiąca, a nie mamy tych pieniędzy. Prosimy o pomoc, "
            "bo bez sal nie możemy prowadzić lekcji dla sześćdziesięciorga dzieci w soboty.") * 2
    assert automatic_reasons(parse_message(message("Opłaty za sale", body))) == []


def test_a_survey_sent_through_a_survey_service_is_the_services_mail() -> None:
    raw = message("Your views on the Community Grants Programme", "Dear partner, the survey takes ten minutes.",
                  Reply_To="grants@bexley.example").replace(
        b"Jo Smith <jo.smith@agewell.example>",
        b"London Borough of Bexley via SurveyMonkey <member@surveymonkeyuser.example>")
    assert any("survey or bulk-mail service" in r for r in automatic_reasons(parse_message(raw)))


@pytest.mark.parametrize(("subject", "body"), [
    ("Your enquiry has been received - Ref CRM-2026-188213",
     "Dear customer,\n\nThank you for contacting the London Borough of Bexley. Your reference number is CRM-1."),
    ("RE: Talking Together - fourth cancelled meeting",
     "Thank you for contacting the Bexley Contracts mailbox.\n\nThis mailbox is monitored Monday to Friday, "
     "9am to 5pm. We aim to respond to all enquiries within 5 working days."),
    ("RE: Lunch club - hall hire",
     "Thank you for contacting Property Lettings.\n\nThis mailbox is no longer monitored. Bookings are now "
     "handled through our online booking system."),
])
def test_a_council_or_icb_mailboxs_acknowledgement_is_the_machines_mail(subject: str, body: str) -> None:
    assert automatic_reasons(parse_message(message(subject, body)))


def test_a_website_forms_relay_of_a_person_is_read_though_auto_submitted() -> None:
    raw = message("New submission from Raise a Compact issue", "Name: Bisi\nMessage: our warehouse rent doubled.",
                  Auto_Submitted="auto-generated", Reply_To="Bisi Okonkwo <bisi@crayfordfoodbank.example>").replace(
        b"Jo Smith <jo.smith@agewell.example>", b"BVSC Website <noreply@bvsc.example>")
    parsed = parse_message(raw)
    assert automatic_reasons(parsed) == []
    assert any("form" in h for h in list_hints(parsed))
    assert classify(parsed, CONFIG).acknowledge is False


def test_a_calendar_reply_with_a_typed_note_is_read() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Dean <dean@wellingyouth.example>", "disputes@bvsc.example"
    msg["Subject"], msg["Message-ID"] = "Declined: Pitch allocation 2027 - clubs briefing", "<cal@wellingyouth.example>"
    msg.set_content('Dean has declined this invitation with a note:\n"whats the point, your letter already says our '
                    'saturday pitches go to the commercial provider in january. we werent asked. 60 kids."')
    msg.add_attachment("BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n", subtype="calendar")
    assert automatic_reasons(parse_message(msg.as_bytes())) == []
    plain = EmailMessage()
    plain["From"], plain["To"] = "Dean <dean@wellingyouth.example>", "disputes@bvsc.example"
    plain["Subject"], plain["Message-ID"] = "Declined: Pitch allocation 2027", "<cal2@wellingyouth.example>"
    plain.set_content("Dean has declined this invitation.\n\nInvitation from Google Calendar")
    plain.add_attachment("BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n", subtype="calendar")
    assert automatic_reasons(parse_message(plain.as_bytes()))


@pytest.mark.parametrize(("subject", "body"), [
    ("Absent : Re: Visite d'étude", "Je suis absente jusqu'au 2 novembre inclus. Pour toute urgence, merci de "
                                    "contacter Mme Sophie Laurent."),
    ("Niedostępny: Re: sala w szkole", "Jestem niedostępny do 16 listopada."),
    ("RE: pitch allocation", "Thank you for your email. I work part time (Monday to Wednesday) and will respond on "
                             "my next working day."),
])
def test_more_away_notes_are_ignored(subject: str, body: str) -> None:
    assert automatic_reasons(parse_message(message(subject, body)))


@pytest.mark.parametrize(("sender", "subject"), [
    ("Bexley Funding Fair <noreply@order.eventbrite.com>", "Your tickets for Bexley Funding Fair 2026"),
    ("Calendly <notifications@calendly.com>", "New Event: Emma Clarke - 10:30am Thu, 8 Oct 2026"),
    ("WeTransfer <noreply@wetransfer.com>", "sunita@crayfordfoodbank.example sent you AGM 2026 video"),
    ("Erith Arts Collective <messaging-service@post.xero.com>", "Invoice INV-0087 from Erith Arts Collective"),
])
def test_a_services_notice_is_its_mail_though_its_reply_to_names_its_customer(sender: str, subject: str) -> None:
    raw = message(subject, "Here are the details of your booking.",
                  Reply_To="Sunita Shah <sunita.shah@crayfordfoodbank.example>").replace(
        b"Jo Smith <jo.smith@agewell.example>", sender.encode())
    assert classify(parse_message(raw), CONFIG).disposition == "ignored"


def test_an_organisations_own_no_reply_address_answered_by_its_person_is_read() -> None:
    raw = message("Riverside studios - notice to leave", "The council has told us to leave the studios by March.",
                  Reply_To="Fran <fran@eritharts.example>").replace(
        b"Jo Smith <jo.smith@agewell.example>", b"Erith Arts <no-reply@eritharts.example>")
    assert automatic_reasons(parse_message(raw)) == []


def test_a_google_calendar_decline_with_a_quoted_note_is_read_though_auto_submitted() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Tomasz <t.zielinski@polishschool.example>", "disputes@bvsc.example"
    msg["Subject"], msg["Message-ID"] = "Declined: Compact Forum @ Wed 11 Nov 2026", "<gcal@polishschool.example>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content('Tomasz has declined this invitation with a note:\n"Sorry, I am at work. But the council\'s '
                    'lettings company will not rent us the school hall on Saturdays from January and nobody '
                    'will say who decided."\n\nCompact Forum\nInvitation from Google Calendar\n'
                    "You are receiving this email because you are an attendee.")
    msg.add_attachment("BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n", subtype="calendar")
    assert automatic_reasons(parse_message(msg.as_bytes())) == []


def test_a_reply_to_an_auto_reply_is_read_on_its_own_words_not_the_away_note_it_quotes() -> None:
    body = ("Got your automatic reply, no problem, look when you are back.\n\n"
            "Grant money from the council for the day centre has not come since 1 October. Please help.\n\n"
            "On Thu, 15 Oct 2026 at 12:12, BVSC Disputes <disputes@bvsc.example> wrote:\n\n"
            "> Thank you for your email. I am out of the office until Monday 19 October\n"
            "> and will reply when I am back. If your matter is urgent please ring the office.\n")
    assert automatic_reasons(parse_message(message("Re: Automatic reply: grant money not come", body))) == []


def test_an_away_note_that_only_checks_the_inbox_on_one_day_is_automatic() -> None:
    body = ("Hello, I only check this inbox on Mondays as it's my home email and I volunteer the rest of "
            "the week. I will read your message next Monday.\nKemi")
    assert automatic_reasons(parse_message(message("Re: Compact training on 24 November", body)))


@pytest.mark.parametrize(("subject", "body"), [
    ("Re: Compact workshop - 4 November", "Back Thursday - Jo"),
    ("Away - Carers conference", "Hi,\n\nI'm at a conference in Manchester all week with patchy signal. Properly back "
     "at my desk on Monday 23rd.\n\nRachel"),
    ("Re: pitch bookings", "I have retired from the committee as of the AGM in June.\n\nPlease write to the new "
     "treasurer at treasurer@wellingyouth.example. I am not able to pass\nmessages on.\n\nRoy"),
    ("Maternity leave", "Thank you for your email.\nI am now on maternity leave and expect to return in August 2027. "
     "This mailbox is not being monitored - please redirect your message as below:\n"
     + "".join(f"Anything to do with our {what}, our long-standing colleague in that team, at {who}@x.example\n"
               for what, who in (("vouchers", "referrals"), ("warehouse and collections", "dev"),
                                 ("council grant and contracts", "chair"), ("volunteers", "volunteer")))
     + "Crayford Food Bank is a registered charity. " * 12),
    ("Your case CAS-48217-K3R9T1 has been logged", "Dear Customer,\nThank you for contacting the council."),
    ("RE: new quarterly template", "Your email has been received by the Strategic Commissioning team.\n\n"
     "Replies may take up to 15 working days. Please do not reply to this email."),
])
def test_away_notes_and_mailbox_receipts_without_marks_are_automatic(subject: str, body: str) -> None:
    assert automatic_reasons(parse_message(message(subject, body)))


def test_a_campaign_tools_mail_is_bulk_however_personal_its_from_looks() -> None:
    raw = message("a quick note from me", "Hi there, I wanted to write to you personally about our funding fair.",
                  Return_Path="<bounce-mc.us21_2203118.887341-disputes=bvsc.example@mail89.suw121.mcsv.net>")
    assert any("bulk-mail service" in r for r in automatic_reasons(parse_message(raw)))


def test_a_person_explaining_their_no_reply_address_is_read() -> None:
    raw = message("Pitches", "Sorry, this is coming from our no-reply address because our normal club email is "
                  "playing up. The council has given our Saturday pitches to another club.").replace(
        b"Jo Smith <jo.smith@agewell.example>", b"Welling Youth FC <no-reply@wellingyouth.example>")
    assert automatic_reasons(parse_message(raw)) == []


@pytest.mark.parametrize(("subject", "body", "headers"), [
    ("Grant schedules - draft", "Liam Doherty (liam.doherty@selondonics.example) has sent you a protected "
     "message.\n\nRead the message: https://outlook.office365.example/Encryption/retrieve", {}),
    ("[SECURE] Panel outcome", "Sunita Bains (sunita.bains@bexley.example) has sent you a secure email.\n\nRead.",
     {}),
    ("Your message to Bexley-VCS-Forum awaits moderator approval", "Your mail is being held.",
     {"X_List_Administrivia": "yes"}),
    ("Your receipt from Canva #2371-8840", "Amount paid: £0.00", {}),
])
def test_notices_from_a_persons_name_or_a_service_are_automatic(subject: str, body: str,
                                                                 headers: dict[str, str]) -> None:
    assert automatic_reasons(parse_message(message(subject, body, **headers)))


def test_a_meeting_invitation_is_a_calendar_notification_unless_a_note_is_typed_above_it() -> None:
    def invitation(note: str) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"] = "Mark <mark.fenwick@bexley.example>", "disputes@bvsc.example"
        msg["Subject"], msg["Message-ID"] = "VCS providers' quarterly meeting - Q3", "<inv@bexley.example>"
        msg.set_content(f"{note}\n\n____\nMicrosoft Teams meeting\nJoin on your computer, mobile app or room device\n")
        msg.add_attachment("BEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n", subtype="calendar")
        return msg.as_bytes()
    assert "a calendar notification" in automatic_reasons(parse_message(invitation("Agenda to follow.")))
    typed = ("Before we meet: our Q2 payment is nine weeks late and nobody in finance will tell us why, "
             "so please put it on the agenda.")
    assert automatic_reasons(parse_message(invitation(typed))) == []


def test_a_council_website_form_is_decided_as_the_person_it_relays() -> None:
    body = ("A new enquiry has been submitted through the council website.\n\nYour name: Sam Okafor\n"
            "Organisation (if any): Sidcup Youth Arts\nEmail address: sam@sidcupyoutharts.example\n\n"
            "Your message:\nThe hub manager told us our Tuesday room booking will be cancelled from January.\n")
    raw = message("Website enquiry: contact BVSC", body, Auto_Submitted="auto-generated").replace(
        b"Jo Smith <jo.smith@agewell.example>", b"London Borough of Bexley <no-reply@bexley.example>")
    parsed = parse_message(raw)
    assert automatic_reasons(parsed) == []
    decision = classify(parsed, CONFIG)
    assert decision.organisation == "Sidcup Youth Arts", decision.reasons
    assert decision.acknowledge is False


def test_a_campaign_tools_mail_is_ignored_even_from_a_directory_organisation() -> None:
    raw = message("Age Well News - Autumn", "The council is proposing to close our day centre. Respond to "
                  "the consultation before 2 December.", X_Mailer="Mailchimp Mailer - **CID91bc72e4f1**",
                  List_Unsubscribe="<https://agewell.us21.list-manage.example/unsubscribe>")
    reasons = automatic_reasons(parse_message(raw))
    assert any("campaign tool" in r for r in reasons)
    assert classify(parse_message(raw), CONFIG).disposition == "ignored"


def test_a_bulk_footer_with_list_unsubscribe_is_automatic_but_not_from_a_persons_address() -> None:
    body = ("Compact awareness survey 2026 has a new response.\n\nView the response: https://survey.example/r/1\n\n"
            "You're receiving this email because response alerts are turned on for this survey.")
    survey = message("New response to \"Compact awareness survey\"", body,
                     List_Unsubscribe="<https://survey.example/prefs>")
    survey = survey.replace(b"From: Jo Smith <jo.smith@agewell.example>",
                            b"From: SurveyTool <member@surveytool.example>")
    assert any("bulk mailer's footer" in r for r in automatic_reasons(parse_message(survey)))
    person = message("Q2 payment", "Our Q2 payment is five weeks late.\n\nYou are receiving this email because "
                     "you are a member of the VCS forum.", List_Unsubscribe="<mailto:leave@lists.example>")
    assert not automatic_reasons(parse_message(person))
    reply = message("Re: Age Well News", "Thanks - see below.\n\nUnsubscribe from this list",
                    List_Unsubscribe="<mailto:leave@lists.example>")
    assert not automatic_reasons(parse_message(reply))


@pytest.mark.parametrize("body", ["Office closed for Diwali and Bandi Chhor Divas week. Back Monday 16th.\n\nHarjit",
                                  "The centre is closed over half term, we reopen on Monday 2 November."])
def test_a_short_typed_note_that_the_office_is_closed_is_an_away_reply(body: str) -> None:
    assert automatic_reasons(parse_message(message("Re: Compact training", body)))


def test_a_hall_closed_without_notice_is_a_persons_dispute() -> None:
    body = "The hall is closed for refurbishment and we cannot get back in until the council gives us a key."
    assert not automatic_reasons(parse_message(message("Hall", body)))
