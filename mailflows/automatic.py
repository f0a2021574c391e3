"""Automatic mail (RFC 3834): what marks a message as sent by a machine, and what only hints at it.

A mark on its own files the message as ignored and it is never acknowledged: Auto-Submitted
(other than "no"), Precedence junk, or bulk from no list (list servers add it to people's mail),
an empty Return-Path, a delivery-status or read report, a bounce sender or a no-reply address
('noreply@', 'notifications@'), X-Autoreply, a one-click unsubscribe header or a bulk mailer's own
header (Mailchimp, Salesforce Marketing Cloud ...), a calendar reply, a subject that auto-repliers,
receipts, quarantines and ticket systems write ("Automatic reply:", "Out of Office:",
"Abwesenheitsnotiz:", "Delivered:", "[Request received]" ...), since some auto-replies carry no
header at all, or an opening that only a machine writes ("This is an automated message", "Please
do not reply to this email").

A hint does not: Exchange adds X-Auto-Response-Suppress to people's mail sent through
distribution lists, and BVSC's own address may be a group that adds List-Id. Mail with only hints
is read for what it says (and never acknowledged automatically); it is ignored as list mail when
it carries List-Unsubscribe and comes from a list's or mailing tool's address, as newsletters and
digests do.
"""

from __future__ import annotations

import re

from mailflows.forwards import find_forward
from mailflows.parsing import ParsedMessage
from mailflows.replies import own_words
from mailflows.weighing import mostly_not_english

_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_MACHINE_SENDER = re.compile(
    r"^(?:[a-z0-9]+[-_.])?(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|notifications?|notify|alerts?|"
    r"auto[-_.]?(?:reply|responder|confirm|mailer)|automailer|mailer|robot|automated|"
    r"calendar[-_.]?notification|bounces?|scan(?:ner)?s?|copier|printer|mfd|mfp|fax|voicemail|"
    r"quarantine|spam[-_.]?quarantine|(?:messaging|mailing|e?mail)[-_.]?service)(?:$|[-+._])", re.IGNORECASE)
"""The local part of an address no person writes from: no-reply senders and notification robots
('noreply@', 'ap-noreply@', 'comments-noreply@')."""
_MACHINE_DOMAIN = re.compile(r"^(?:notifications?|notify|no-?reply|alerts?|bounces?|mailer)\.", re.IGNORECASE)
"""A domain only machines send from: 'notifications.service.gov.uk' (GOV.UK Notify)."""
_VIA_SERVICE = re.compile(
    r"\bvia (?:docusign|adobe (?:acrobat )?sign|dropbox(?: sign)?|hellosign|pandadoc|sharepoint(?: online)?|"
    r"onedrive|google (?:drive|docs|sheets|slides|forms)|microsoft (?:teams|forms)|box)\b", re.IGNORECASE)
"""A document service's sender name: 'Margaret Lowe via DocuSign', 'Sarah (via Google Drive)'."""
_VIA_BULK = re.compile(
    r"\bvia (?:surveymonkey|smartsurvey|qualtrics|eventbrite|mailchimp|constant contact|campaign monitor|"
    r"dotdigital|govdelivery|gov\.uk notify)\b", re.IGNORECASE)
"""A survey or bulk-mail service's sender name: its mail even when the Reply-To is the sender's."""
_RECALL = re.compile(r"^\s*recall\s*:", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"^(?:(?:re|aw)\s*:\s*)*(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed|"
    r"delayed|notification)|returned mail|mail delivery (?:failed|failure|system|subsystem)|failure notice|"
    r"message (?:not delivered|delivery failure|undeliverable)|nie dostarczono|niedostarczon|unzustellbar|"
    r"nicht zustellbar|non remis|non recapitabile|no se puede entregar|onbestelbaar|"
    r"warning: could not send|delayed mail|mail system error|"
    r"(?:spam )?quarantine (?:summary|digest|notification|report)|(?:spam )?quarantine(?:d)? message|"
    r"message (?:held|blocked|quarantined)|(?:\w+ )?hold notification|held message)", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|fw|fwd)\s*:\s*)*(?:"
    r"automatic reply|auto(?:matic)?[- ]?(?:reply|response|answer)|autoreply|out of (?:the )?office"
    r"(?: auto ?reply)?|ooo|away from (?:the|my) office|on (?:annual )?leave|annual leave|"
    r"vacation (?:reply|response)|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|"
    r"absence du bureau|respuesta autom[áa]tica|fuera de la oficina|risposta automatica|"
    r"automatisch antwoord|afwezig|autosvar|automatisk svar|fr[åa]nvaro|"
    r"odpowied[źz] automatyczna|automatyczna odpowied[źz]|nieobecno[śs][ćc]|ateb awtomatig|"
    r"allan o'?r swyddfa|r[ăa]spuns automat|resposta autom[áa]tica|otomatik (?:yan[ıi]t|cevap)|"
    r"automatick[áa] odpov[ěe][ďd]|automatikus v[áa]lasz|automaattinen vastaus|automatinis atsakymas|"
    r"automātiskā atbilde|automaatne vastus|αυτόματη απάντηση|автоматический ответ|автоответ|"
    r"رد تلقائي|自动回复|自動回覆|自動応答|自動返信|자동 회신|abwesend|"
    r"read|not read|read receipt|return receipt|delivered|delivery receipt|lu|gelesen|"
    r"accepted|declined|tentative|tentatively accepted|absent|ausente|niedost[eę]pn\w*|assente"
    r")\s*(?::|$)|^\s*(?:away|on leave|annual leave|out of (?:the )?office)\s+[-–—]\s", re.IGNORECASE)
_AUTO_ANYWHERE = re.compile(
    r"[\[(]\s*(?:auto(?:matic)?[- ]?(?:reply|response)|autoreply|out of (?:the )?office|ooo)\s*[\])]|"
    r"\bis out of the office\b|\b(?:automatic|auto)[- ]?reply\s*:", re.IGNORECASE)
"""An auto-reply's mark later in a subject: 'Payment [Automatic reply]', 'Jo Smith is out of the office'."""
_MACHINE_OPENING = re.compile(
    r"^\W*(?:dear (?:customer|valued customer|sir(?: or madam)?|resident|enquirer|service user),?\s+)?"
    r"(?:this is an? (?:automated|automatic|auto-generated|system[- ]generated) "
    r"(?:message|e-?mail|reply|response|notification|acknowledge?ment)|"
    r"(?:please )?do not reply (?:directly )?to this (?:e-?mail|message|notification)|"
    r"this (?:e-?mail|mailbox|inbox|address) is (?:(?:not|no longer) (?:being )?monitored|unmonitored)|"
    r"thank you for (?:contacting|your (?:e-?mail|message|enquiry))[^.]{0,80}\.\s*(?:this (?:e-?mail|mailbox|"
    r"inbox|address) is (?:(?:not|no longer) (?:being )?|un)?monitored|"
    r"your (?:e-?mail|message|enquiry) has (?:not )?been (?:received|read|logged)|"
    r"your (?:reference|ticket|case|enquiry) (?:number |reference )?is|"
    r"we aim to (?:respond|reply|get back))|"
    r"(?:this|your) (?:message|e-?mail|request|enquiry) has been (?:received|logged) and (?:a|will)\b|"
    r"your (?:e-?mail|message|enquiry|request|correspondence) has been (?:received|logged) by\b|"
    r"[^\n]{0,120}?\bhas sent you an? (?:protected|secure|encrypted|confidential) (?:message|e-?mail)\b)",
    re.IGNORECASE)
"""How only a machine opens a message (a person's words come first; a quoted or forwarded one is not read)."""
_MEETING = re.compile(r"microsoft teams meeting|join zoom meeting|join with google meet|join on your computer",
                      re.IGNORECASE)
"""An online meeting's invitation block (a calendar invitation is a calendar notification whatever
its subject, unless its sender typed a note of a dozen words or more above it)."""
_CALENDAR_SUBJECT = re.compile(r"^\s*(?:(?:updated )?invitation|accepted|declined|tentative|"
                               r"cancell?ed(?: event)?|new event|event reminder)\b", re.IGNORECASE)
_TICKET_SUBJECT = re.compile(
    r"(?:\[?(?:ticket|request|case|incident)\s*#?\s*\d+\]?\s*(?:received|created|has been|:)|"
    r"^\s*\[?(?:ticket|request|case|incident|enquiry|query)\b[^:]{0,30}\b(?:received|created|logged|opened|"
    r"acknowledged)\b|"
    r"^(?:we(?:'ve| have) received your|thank you for (?:contacting|your (?:e-?mail|message|enquiry)))\b|"
    r"^your (?:receipt|invoice|order confirmation|donation receipt) (?:from|for|#)|^receipt (?:from|for|#)|"
    r"\bawaits moderator approval\b|"
    r"^your (?:enquiry|request|message|e-?mail|ticket|case|query|complaint)(?: [\w-]+){0,3} (?:has been|was|is) "
    r"(?:received|logged|created|acknowledged)\b)",
    re.IGNORECASE)
_STRONG_HEADERS = ("x-autoreply", "x-autorespond", "x-autogenerated", "list-unsubscribe-post",
                   "x-ms-exchange-generated-message-source", "x-mc-user", "x-mailchimp-campaign",
                   "x-campaign", "x-campaignid", "x-csa-complaints", "x-sfmc-stack", "x-zendesk-from-account-id",
                   "x-freshdesk-ticket-id", "x-servicenow-generated", "x-mailin-campaign", "x-list-administrivia")
"""Headers that only machines add: auto-repliers, and the bulk and ticket systems' own headers
(not the transactional services, SendGrid, Amazon SES, Mailgun: a CRM sends people's mail through them)."""
_SHARING_SUBJECT = re.compile(
    r"\bshared (?:\"[^\"]*\"|'[^']*'|\u201c[^\u201d]*\u201d|an? (?:file|folder|document|link|item|\w+ \w+)) with you|"
    r"\binvited you to (?:edit|view|comment|collaborate|join)|\b(?:commented|replied) on\b|"
    r"\bmentioned you (?:in|on)\b|\bsent you (?:a|an) (?:document|envelope|agreement)\b|"
    r"^\s*(?:please (?:docusign|review and sign|sign)|completed:|signature requested\b)", re.IGNORECASE)
"""A document service's notice (shared with you, a comment, a signing request): the machine's mail even
when its Reply-To names the person who shared it, which a web form's relay of a person also has."""
_BULK_RETURN_PATH = re.compile(
    r"@(?:[\w-]+\.)*(?:mcsv\.net|mcdlv\.net|rsgsv\.net|createsend\d*\.com|cmail\d+\.com|ccsend\.com|"
    r"constantcontact\.com|sender-sib\.com|sendinblue\.com|brevo\.com|dmtrk\.net)$", re.IGNORECASE)
"""The bounce domains of campaign tools (Mailchimp, Campaign Monitor, Constant Contact, Brevo,
dotdigital), which only send bulk mail, however personal its From looks."""
_PERSON_ON_A_MACHINE = re.compile(
    r"\b(?:coming|sent|sending|writing)(?: (?:this|to you))? (?:from|on|through) (?:our|the|my) (?:[\w-]+ )?"
    r"no-?reply|\b(?:our|my) (?:normal |usual |own |main )?(?:e-?mail|mail|account|inbox|address) "
    r"(?:is|has been|keeps|was) (?:down|not working|playing up|broken|bouncing|hacked)", re.IGNORECASE)
"""A person explaining why they write from a no-reply address ('sorry, this is coming from our
no-reply address because our normal email is playing up')."""
_BULK_MAILER = re.compile(
    r"mailchimp|campaign ?monitor|constant ?contact|dotdigital|dotmailer|sendinblue|brevo|mailerlite|"
    r"govdelivery|newsweaver|mailjet|moosend|emailoctopus|zoho ?campaigns|sendy|listmonk|phplist|"
    r"acymailing|mailpoet|substack|beehiiv", re.IGNORECASE)
"""A campaign tool's X-Mailer: it sends only bulk mail (newsletters, bulletins), even an
organisation's own ('Mailchimp Mailer - **CID...**')."""
_BULK_FOOTER = re.compile(
    r"\byou(?:'re| are) receiving this (?:e-?mail|message|newsletter|bulletin|notification|alert|update)s?\b|"
    r"\byou received this (?:e-?mail|newsletter|bulletin) because you (?:signed up|subscribed|registered|"
    r"opted in|are a (?:member|subscriber|customer))|\bwhy did i get this\?|\bunsubscribe from this list\b|"
    r"\bupdate (?:your )?(?:e-?mail |subscription |communication )?preferences\b|"
    r"\bmanage (?:your )?(?:e-?mail |subscription |notification |communication )?(?:preferences|settings|"
    r"subscriptions?)\b|\bto stop receiving (?:these|this|future|such)\b|\bopt out of (?:these|future|all)\b|"
    r"\bview (?:this e-?mail |it )?(?:in (?:your |a )?(?:web )?browser|online)\b", re.IGNORECASE)
"""A bulk mailer's footer (or its 'view in browser' line): why you get it and how to stop it. Read
only on a message that carries List-Unsubscribe, is no reply or forward, and is not from a person's
own address: people's mail through a group or a CRM carries such lines too."""
_HINT_HEADERS = ("list-id", "list-unsubscribe", "x-auto-response-suppress", "mailing-list",
                 "x-ms-exchange-inbox-rules-loop")


def automatic_reasons(parsed: ParsedMessage) -> list[str]:
    """Why a message is automatic mail that must never be acknowledged; empty if it is not."""
    reasons: list[str] = []
    calendar = "text/calendar" in parsed.part_types and (
        _CALENDAR_SUBJECT.match(parsed.subject) or not parsed.text.strip() or _MEETING.search(parsed.text[:3000]))
    noted = calendar and _calendar_note(parsed.text)
    auto = (parsed.header("auto-submitted") or "").strip().lower()
    # A website's form, or a calendar reply with a typed note, sends a person's words with
    # Auto-Submitted: read them, acknowledge nobody.
    if auto and auto.split(";")[0].strip() != "no" and not (
            auto.startswith("auto-generated") and (noted or form_address(parsed) is not None)):
        reasons.append(f"Auto-Submitted: {auto}")
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence in ("junk", "auto_reply") or (precedence == "bulk" and not _through_a_list(parsed)):
        reasons.append(f"Precedence: {precedence}")
    if parsed.return_path == "":
        reasons.append("empty Return-Path (a bounce)")
    elif _BULK_RETURN_PATH.search(parsed.return_path or ""):
        reasons.append(f"sent through a bulk-mail service (Return-Path {parsed.return_path})")
    report = parsed.content_type == "multipart/report" or any(
        t in ("message/delivery-status", "message/disposition-notification") for t in parsed.part_types)
    if report:
        reasons.append("delivery-status or read report")
    if calendar and not noted:
        reasons.append("a calendar notification")
    for name in _STRONG_HEADERS:
        # Mail tools add one-click unsubscribe to every message now, a person's own included.
        if name == "list-unsubscribe-post" and personal_address(parsed.from_address, parsed.from_name):
            continue
        if parsed.header(name) is not None:
            reasons.append(f"{name.title()} present (sent by a machine)")
    # A person passing a machine's mail on, with words of their own (a forward with none, as a
    # mailbox rule makes, is the machine's mail still).
    a_forward = bool(_FORWARDED.match(parsed.subject))
    forwarded = a_forward and _has_own_words(parsed.text)
    if a_forward and not forwarded:
        reasons += _passed_on(parsed)
    reasons += _sender_reasons(parsed, forwarded)
    if _RECALL.match(parsed.subject) and "would like to recall the message" in parsed.text[:500].lower():
        reasons.append("a request to recall an earlier message (Outlook writes it)")
    # A person answering an auto-reply ('RE: Automatic reply: ...') writes words of their own.
    if not forwarded and not noted and (_AUTO_SUBJECT.match(parsed.subject) or _AUTO_ANYWHERE.search(parsed.subject)) \
            and not (_REPLY.match(parsed.subject) and _answers_a_machine(parsed.text)):
        reasons.append(f"its subject is an automatic one ({parsed.subject[:60]!r})")
    elif not forwarded and _TICKET_SUBJECT.search(parsed.subject):
        reasons.append(f"its subject is a ticket system's receipt ({parsed.subject[:60]!r})")
    reasons += _bulk_reasons(parsed)
    if _DIGEST_SUBJECT.search(parsed.subject) and not _REPLY.match(parsed.subject) and list_hints(parsed):
        reasons.append(f"a mailing list's digest ({parsed.subject[:60]!r})")
    if _MACHINE_OPENING.match(parsed.text[:300]):
        reasons.append("it opens as only a machine writes "
                       f"({' '.join(parsed.text[:300].split())[:60]!r})")
    elif not forwarded and _away_reply(own_words(parsed.text) if _REPLY.match(parsed.subject) else parsed.text):
        reasons.append("it reads as an out-of-office reply (away, back on a date, your email dealt with then)")
    elif not forwarded and _away_elsewhere(parsed.text):
        reasons.append("it reads as an out-of-office reply in another language (away or on leave, until a date)")
    return reasons


def _bulk_reasons(parsed: ParsedMessage) -> list[str]:
    """Why a message is a campaign tool's bulk mail: its X-Mailer, or a bulk mailer's footer on a
    message with an unsubscribe header that is no reply or forward and not from a person's address."""
    mailer = parsed.header("x-mailer") or ""
    if _BULK_MAILER.search(mailer):
        return [f"sent by a campaign tool (X-Mailer {mailer[:40]!r})"]
    if parsed.header("list-unsubscribe") is None or _REPLY.match(parsed.subject) \
            or personal_address(parsed.from_address, parsed.from_name):
        return []
    footer = _BULK_FOOTER.search(parsed.text[-2500:])
    return [f"a bulk mailer's footer ({footer.group(0)!r}) on list mail"] if footer else []


def _sender_reasons(parsed: ParsedMessage, forwarded: bool) -> list[str]:
    """Why the sender is a machine: a mail system, a sharing or signing service, a survey or bulk
    service, or an address no person writes from (unless it relays a person, or a person says why
    they write from it)."""
    local = (parsed.from_address or "").split("@", 1)[0].lower()
    if local in _BOUNCE_SENDERS or (not forwarded and _BOUNCE_SUBJECT.match(parsed.subject)):
        return ["sent by a mail system (a bounce or a quarantine notice)"]
    machine = _machine_address(parsed)
    if machine and _SHARING_SUBJECT.search(parsed.subject):
        return [f"a sharing or signing notice from an address no person writes from "
                f"({parsed.from_address}; {parsed.subject[:60]!r})"]
    if _VIA_BULK.search(parsed.from_name):
        return [f"sent through a survey or bulk-mail service ({parsed.from_name[:60]!r})"]
    if machine and not _relays_a_person(parsed) and not _PERSON_ON_A_MACHINE.search(parsed.text[:600]):
        return [f"sent from an address no person writes from ({parsed.from_address})"]
    return []


_FORWARDED = re.compile(r"^\s*(?:re\s*:\s*)*(?:fw|fwd|tr|wg|rv|i|doorst|vs)\s*:", re.IGNORECASE)
_REPLY = re.compile(r"^\s*(?:re|aw|sv|odp|fw|fwd|tr|wg)\s*:", re.IGNORECASE)
_DIGEST_SUBJECT = re.compile(r"\bdigest\b|\bvol(?:ume)? \d+,? issue \d+\b", re.IGNORECASE)
_AWAY = re.compile(
    r"\b(?:i am|i'm|i will be|i'll be)\s+(?:currently\s+|now\s+)?(?:away|out of (?:the )?office|"
    r"on (?:annual |parental |maternity |paternity |sick |study )?leave|on holiday|off work|"
    r"not in the office|out of the country|travelling|off|at (?:a|the) (?:conference|training course|course)|"
    r"on (?:a|the) (?:course|training course))\b|\b(?:i|we) work part[- ]time\b|"
    r"\b(?:i|we) only (?:check|read|look at|monitor|pick up) (?:this|my|our|these) "
    r"(?:inbox|e-?mails?|mailbox|account|messages)\b", re.IGNORECASE)
_AWAY_MACHINE = re.compile(
    r"\bthank(?:s| you) for your (?:e-?mail|message|mail)\b|limited (?:access to|or no access)|"
    r"no access to (?:my )?e-?mail|(?:reply|respond|deal with (?:it|your e-?mail)|get back to you)\b[^.]{0,40}"
    r"\b(?:on my return|when i (?:return|am back|get back)|then)\b|"
    r"\b(?:for|if (?:your|it is|this is)(?: matter(?: is)?)?) urgent\b|in my absence\b|"
    r"will not be (?:read|forwarded)|no (?:phone )?signal\b|"
    r"\banything (?:urgent|for|about|to do with)\b[^.]{0,60}\b(?:send|forward|contact|email|e-mail|ring|call|"
    r"speak to)\b|not (?:checking|reading|monitoring) (?:my )?e-?mails?|"
    r"\bin the meantime,? (?:please )?(?:contact|email|e-mail|ring|call|speak to)\b|"
    r"\bi will (?:read|see|pick up|look at) (?:your|this) (?:message|e-?mail|mail)\b|"
    r"\b(?:mailbox|inbox|e-?mail|account) (?:is|will be) not (?:being )?(?:monitored|checked|read)\b", re.IGNORECASE)
_AWAY_UNTIL = re.compile(r"\b(?:until|till|return(?:ing)?|back (?:on|in|at|from)|next working day|"
                         r"next (?:monday|tuesday|wednesday|thursday|friday))\b",
                         re.IGNORECASE)


def _has_own_words(text: str) -> bool:
    """Whether a forward carries a few words of the forwarder's own above what it forwards (a
    phone's 'Sent from my iPhone' is none)."""
    return len(_MOBILE_SIGNATURE.sub("", own_words(text)).split()) >= 3


_DOCUMENT_SENDER = re.compile(
    r"^(?:[a-z0-9]+[-_.])?(?:scan(?:ner)?s?|copier|printer|mfd|mfp|fax|voicemail)(?:$|[-+._@])", re.IGNORECASE)
"""A scanner, copier or voicemail system: what a person forwards from one is a document they mean to send."""
_MOBILE_SIGNATURE = re.compile(r"^\s*(?:sent from (?:my )?[\w .-]{1,40}|get outlook for (?:ios|android))\s*$",
                               re.IGNORECASE | re.MULTILINE)


def _passed_on(parsed: ParsedMessage) -> list[str]:
    """Why a forward with no words of its own is still the machine's mail: what it forwards came
    from a machine or a mailing list (a mailbox rule passing on a newsletter, or a colleague
    sending one on without a word)."""
    forward = find_forward(parsed)
    if forward is None or not forward.sender_address or _DOCUMENT_SENDER.match(forward.sender_address):
        return []
    if machines_mail(forward.sender_address, forward.subject) or _LIST_SENDER.search(forward.sender_address):
        return [f"a forward with no words of its own of a machine's or a list's mail ({forward.sender})"]
    return []


# An away note in another language, typed into a webmail's vacation setting with no mark on it:
# a word for being away or on leave, and a word for 'until' or 'back', in a short text. The
# languages are those Bexley's community groups write in (the corpus README lists them).
_AWAY_ELSEWHERE = re.compile(
    r"urlop|nieobecn|poza biurem|i ffwrdd|absennol|ar wyliau|allan o'r swyddfa|ਛੁੱਟੀ|چھٹی|رخصت|ছুটি|"
    r"fasax|maqnaan|concediu|în afara biroului|absent[ăae]?\b|niedost[eę]pn|férias|ausente|fora do escritório|"
    r"izin(?:de|li)|"
    r"ofis dışında|விடுப்பு|விடுமுறை|રજા|إجازة|خارج المكتب|atostog|nebūsiu|छुट्टी|vacaciones|fuera de la oficina|"
    r"congé|en vacances|urlaub|abwesend|außer haus", re.IGNORECASE)
_UNTIL_ELSEWHERE = re.compile(
    r"\bdo (?:dnia|\d)|wracam|powrocie|\btan\b|\bnôl\b|ਤੱਕ|ਵਾਪਸ|تک|واپس|পর্যন্ত|ফিরে|\bilaa\b|\bsoo laabto|"
    r"până (?:la|pe|în)|revin|\baté\b|regresso|kadar|döneceğim|வரை|திரும்ப|સુધી|પાછ|حتى|عودت|\biki\b|grįšiu|"
    r"तक|वापस|\bhasta\b|regreso|jusqu|retour|\bbis\b|zurück", re.IGNORECASE)


def _away_elsewhere(text: str) -> bool:
    """Whether a short text in another language reads as an away note (see _AWAY_ELSEWHERE)."""
    start = text[:600]
    if not (mostly_not_english(start) and _AWAY_ELSEWHERE.search(start) and _UNTIL_ELSEWHERE.search(start)):
        return False  # the usual case, found cheaply: the reply's own words are read only now
    words = own_words(text).strip()
    if len(words) > 600 or not mostly_not_english(words):
        return False
    # Away and 'until' in one breath ('na urlopie do 15 listopada'), not a treasurer back from
    # leave who writes 'not yet' ('ابھی تک') of a payment further on.
    away = [m.start() for m in _AWAY_ELSEWHERE.finditer(words)]
    return any(abs(a - u.start()) <= 80 for a in away for u in _UNTIL_ELSEWHERE.finditer(words))


_CALENDAR_MACHINE = re.compile(
    r"has (?:accepted|declined|tentatively accepted) this invitation(?! with a note)|invitation from google calendar|"
    r"you are receiving this|forwarding this invitation|more options|join (?:with google meet|microsoft teams)|"
    r"when:\s|view your event|this event has been (?:changed|updated|cancell?ed)|has invited you to", re.IGNORECASE)


_QUOTED_NOTE = re.compile(r"\bwith a note:\s*[\"\u201c]([^\"\u201d]{20,})[\"\u201d]", re.IGNORECASE)
"""Google Calendar's reply with a note: 'Jo has declined this invitation with a note: "..."'."""


def _calendar_note(text: str) -> bool:
    """Whether a calendar reply carries a note its sender typed (a dozen words or more, none of
    them a calendar system's own)."""
    quoted = _QUOTED_NOTE.search(text[:3000])
    meeting = _MEETING.search(text[:3000])
    words = quoted.group(1) if quoted else own_words(text[:meeting.start()] if meeting else text)
    return len(words.split()) >= 12 and not _CALENDAR_MACHINE.search(words)


def _answers_a_machine(text: str) -> bool:
    """Whether a reply's own words are a person's answer (a dozen words or more, not an away note)."""
    words = own_words(text)
    return len(words.split()) >= 12 and not _away_reply(words) and not _MACHINE_OPENING.match(words[:300])


def _away_reply(text: str) -> bool:
    """Whether a short text is an out-of-office reply: away, and said the way an autoreply says it
    (or, on its own, 'Back Thursday - Jo'); or a note that its writer has left, for good."""
    stripped = text.strip()
    if len(stripped) > 1600 or (len(stripped) > 900 and not _REDIRECTS.search(stripped)):
        return False  # a long away note is a list of whom to write to instead
    start = stripped[:700]
    if _BACK_ON_A_DAY.match(stripped) or (_GONE.search(start) and _GONE_MACHINE.search(start)) \
            or (len(stripped) <= 300 and _CLOSED_UNTIL.match(stripped)):
        return True
    return bool(_AWAY.search(start) and _AWAY_MACHINE.search(start) and _AWAY_UNTIL.search(start))


_REDIRECTS = re.compile(r"(?:\n[^\n]{0,140}\b[\w.+-]+@[\w-]+\.[\w.]+[^\n]{0,40}){3,}")
"""Three lines or more that each name an address to write to instead."""
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_BACK_ON_A_DAY = re.compile(
    r"(?:i'?m |i am )?(?:back|in the office|returning|away (?:until|till))\s+(?:on\s+)?" + _WEEKDAY
    + r"\b[^\n]{0,30}\Z", re.IGNORECASE)
"""The whole of a typed away note: 'Back Thursday - Jo'."""
_DAY_OR_DATE = r"(?:on )?(?:" + _WEEKDAY + r"|\d{1,2}(?:st|nd|rd|th)?\b|tomorrow)"
_CLOSED_UNTIL = re.compile(
    r"^\W*(?:(?:the |our )?(?:office|centre|center|club|school|hall|building|shop|bank)(?: is| will be)?|"
    r"we(?: are|'re| will be)(?: now)?) closed\b.{0,150}?\b(?:back|re-?open(?:s|ing)?|open again)\s+"
    + _DAY_OR_DATE, re.IGNORECASE | re.DOTALL)
"""A short typed note that the office is closed: 'Office closed for Diwali week. Back Monday 16th.'"""
_GONE = re.compile(r"\b(?:i have|i've|i) (?:now )?(?:retired|left|stepped down|moved on)\b", re.IGNORECASE)
_GONE_MACHINE = re.compile(
    r"\b(?:not able to|unable to|cannot|can't|will not)\s+(?:pass\s+(?:messages|e-?mails|it|them)\s+on|forward)|"
    r"\b(?:this|my) (?:mailbox|inbox|address|e-?mail address|account) (?:is|will be) (?:no longer|not) "
    r"(?:monitored|checked|read|in use)", re.IGNORECASE)
"""A note that its writer has left: 'I have retired from the committee ... I am not able to pass messages on'."""


def machine_sender(address: str | None) -> bool:
    """Whether an address is one only machines send from: its local part ('noreply@',
    'ap-noreply@', 'postmaster@') or its domain ('notifications.service.gov.uk')."""
    local, _, domain = (address or "").lower().partition("@")
    return bool(local in _BOUNCE_SENDERS or _MACHINE_SENDER.match(local) or _MACHINE_DOMAIN.match(domain))


def machines_mail(sender: str | None, subject: str) -> bool:
    """Whether a message with this sender and subject is a machine's: a bounce, an auto-reply,
    a no-reply sender (used for a message someone forwards, whose other headers are gone)."""
    return bool(machine_sender(sender) or _BOUNCE_SUBJECT.match(subject) or _AUTO_SUBJECT.match(subject)
                or _AUTO_ANYWHERE.search(subject))


def personal_address(address: str | None, name: str) -> bool:
    """Whether an address is a person's own: it holds a name from a person's sender name
    ('Derek Pinnock <derek.pinnock@...>', 'Amina Yusuf <amina@...>'), not 'news@' or 'hello@', nor
    an organisation's name ('Community Bulletin <communitybulletin@...>')."""
    local = (address or "").split("@", 1)[0].lower()
    words = re.findall(r"[^\W\d_]+", name.lower())
    if not local or _LIST_SENDER.search(local) or not 1 <= len(words) <= 4 or _ORGANISATION_WORDS & set(words):
        return False
    return any(len(word) >= 3 and word in local for word in words)


_ORGANISATION_WORDS = frozenset((
    "council", "community", "bulletin", "news", "newsletter", "team", "group", "network", "forum", "centre",
    "center", "club", "association", "society", "trust", "foundation", "charity", "service", "services",
    "via", "borough", "nhs", "icb", "bvsc", "office", "info", "admin", "enquiries", "update", "updates",
    "partnership", "alliance", "collective", "school", "church", "bank", "london", "bexley"))
"""Words of an organisation's or a list's sender name, not a person's."""


def _machine_address(parsed: ParsedMessage) -> bool:
    """Whether the sender is an address, a domain or a service name that only machines send as."""
    return machine_sender(parsed.from_address) or bool(_VIA_SERVICE.search(parsed.from_name))


def _person_replies(parsed: ParsedMessage) -> bool:
    """Whether a no-reply sender's Reply-To is a person's (not another machine's)."""
    reply_to = (parsed.reply_to or "").split("@", 1)[0].lower()
    return bool(reply_to) and not _MACHINE_SENDER.match(reply_to) and reply_to not in _BOUNCE_SENDERS


def _relays_a_person(parsed: ParsedMessage) -> bool:
    """Whether a no-reply sender relays a person: a website's form ('New submission from Contact
    us', 'wordpress@'), or an organisation's own no-reply address answered by one of its people.
    A service's notice (a booking, a file sent, an invoice: 'noreply@order.eventbrite.com') names
    its customer in Reply-To too, but comes from the service's domain, not the person's."""
    if form_address(parsed) is not None:
        return True
    if not _person_replies(parsed):
        return False
    local, _, domain = (parsed.from_address or "").lower().partition("@")
    reply_domain = (parsed.reply_to or "").lower().partition("@")[2]
    return bool(RELAY_SENDER.match(local) or (domain and domain == reply_domain))


def _through_a_list(parsed: ParsedMessage) -> bool:
    """Whether a list or group delivered the message (list servers add Precedence: bulk to people's mail)."""
    return parsed.header("list-id") is not None or parsed.header("mailing-list") is not None


def list_hints(parsed: ParsedMessage) -> list[str]:
    """Headers that hint at list, group or form mail but are also found on people's mail."""
    hints = [f"{name.title()} present" for name in _HINT_HEADERS if parsed.header(name) is not None]
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence == "list" or (precedence == "bulk" and _through_a_list(parsed)):
        hints.append(f"Precedence: {precedence}")
    if parsed.header("auto-submitted") is not None and form_address(parsed) is not None:
        hints.append("Auto-Submitted on a website form's relay of a person")
    return hints


RELAY_SENDER = re.compile(r"^(?:wordpress|www-data|apache|nginx|web(?:site)?|forms?|contact(?:-?form)?|"
                          r"enquiries-form|webform|typeform|jotform|wufoo|formstack)(?:$|[-+._])")
"""The local part of an address a website's form sends from."""
_FORM_SUBJECT = re.compile(r"\b(?:new (?:form )?submission|form submission|website enquiry|web ?form|contact form|"
                           r"enquiry form|new (?:message|enquiry) (?:from|via))\b", re.IGNORECASE)


def form_address(parsed: ParsedMessage) -> str | None:
    """The address of the person a website form relays, or None when the message is no form's
    relay. A relay comes from a no-reply or website address, under a form's subject ('New
    submission from Contact us'), with the person's address in its Reply-To or in the form's own
    'Email address:' field."""
    local = (parsed.from_address or "").split("@", 1)[0].lower()
    if not (_FORM_SUBJECT.search(parsed.subject) and (_MACHINE_SENDER.match(local) or RELAY_SENDER.match(local))):
        return None
    if _person_replies(parsed):
        return parsed.reply_to
    field = _FORM_EMAIL.search(parsed.text[:3000])
    return field.group(1).lower() if field else None


_FORM_EMAIL = re.compile(
    r"(?im)^[ \t]*(?:your )?e-?mail(?: address)?[ \t]*:[ \t]*<?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)>?[ \t]*$")
"""A form's field with the address of the person who filled it in: 'Email address: amina@tmwn.example'."""


_LIST_SENDER = re.compile(
    r"(?:^|[-+._])(?:request|bounces?|owner|news|newsletters?|digest|bulletins?|updates|mailer|lists?|"
    r"noreply|no-reply|marketing|comms|communications|campaigns?|biuletyn|boletim|buletin)(?:$|[-+._@])|"
    r"@(?:lists?|news|mail|email)\.|@(?:[\w-]+\.)?(?:substack\.com|beehiiv\.com|ghost\.io|buttondown\.email)$",
    re.IGNORECASE)


def is_newsletter(hints: list[str], sender: str | None, known_sender: bool, sender_name: str = "") -> bool:
    """Whether list mail is a newsletter or digest (ignored when it is not a dispute).

    That is mail with an unsubscribe link from a sender the directory does not know, sent from a
    list's or a mailing tool's address ('vcs-forum-request@', 'news@', '@lists.'), or sent in bulk
    (Precedence: bulk) from an address that is not a person's own. A person writing through a list
    or group is read as that person's mail.
    """
    if known_sender or not any(h.startswith("List-Unsubscribe") for h in hints):
        return False
    if sender and _LIST_SENDER.search(sender):
        return True
    return "Precedence: bulk" in hints and bool(sender) and not personal_address(sender, sender_name)
