"""Facts from a parsed message: is it automatic, who sent it, which case it belongs to, what it asks."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from compact_docs.register.cases import CaseRegister
from compact_docs.register.records import CASE_REF_IN_TEXT, Case, case_ref_pattern
from compact_docs.rules.disputes import CaseState, DisputeFacts, FoundIssue, Weighed
from mailflows.automatic import (
    RELAY_SENDER,
    automatic_reasons,
    form_address,
    is_newsletter,
    list_hints,
    machine_sender,
    machines_mail,
)
from mailflows.config import MailConfig
from mailflows.forwards import Forward, find_forward
from mailflows.parsing import ParsedMessage
from mailflows.replies import OwnWords, own_words, read_own_words
from mailflows.signals import normalise
from mailflows.weighing import (
    POLICY,
    TRIED_RULES,
    find_issue_types,
    models_for,
    rule_names,
    said_outright,
    weigh,
    words_to_weigh,
)

__all__ = ["MessageReading", "ReadAhead", "automatic_reasons", "clean_subject", "extract_facts",
           "find_case", "own_words", "read_ahead", "read_message"]


def clean_subject(subject: str) -> str:
    """A subject without reply/forward prefixes and case references, for a case's topic."""
    previous = None
    while previous != subject:
        previous = subject
        subject = re.sub(r"^\s*(?:re|fw|fwd|aw|sv)\s*(?:\[\d+\])?\s*:\s*", "", subject,
                         flags=re.IGNORECASE)
        subject = re.sub(r"^\s*\[[^\]]*\]\s*", "", subject)
    return CASE_REF_IN_TEXT.sub(" ", subject).strip()


def _state(case: Case) -> CaseState:
    return CaseState(case.ref, case.stage, case.status, case.organisation, case.commissioned,
                     sender=case.sender)


def find_case(parsed: ParsedMessage, config: MailConfig,
              register: CaseRegister | None) -> tuple[Case | None, str | None, list[str]]:
    """The case a message belongs to (by [REF] in its subject or by its thread headers), and how."""
    notes: list[str] = []
    if register is None:
        return None, None, notes
    for ref in case_ref_pattern(config.compact_profile).findall(parsed.subject):
        case = register.case(ref)
        if case is not None:
            return case, f"subject carries [{case.ref}]", notes
        notes.append(f"subject names [{ref.upper()}], which is not in the register")
    case = register.case_for_message_ids(parsed.thread_ids)
    if case is not None:
        header = "In-Reply-To" if set(parsed.in_reply_to) & set(case.message_ids) else "References"
        return case, f"its {header} names a message on the case", notes
    return None, None, notes


@dataclass(frozen=True)
class MessageReading:
    """A message as routing reads it: its facts, the words they came from, and whom to answer.

    `text` is the subject and the deciding sender's own words (the forwarded message's, for a
    forward) and `rules` the phrase rules that fired on it: together, what the models weigh.
    `sender` is the deciding sender (a forward's original sender); `acknowledge_to` is None when
    nobody is to be acknowledged automatically.
    """

    facts: DisputeFacts
    text: str = ""
    rules: tuple[str, ...] = ()
    forward: Forward | None = None
    sender: str | None = None
    acknowledge_to: str | None = None
    own_words: str = ""
    """The deciding sender's own words (the forwarded message's, for a forward), for the register."""


def _removed(own: OwnWords) -> str | None:
    removed = own.removed
    return f"read the sender's own words ({', '.join(removed)} left out)" if removed else None


_NOISE = re.compile("[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Characters that do not occur in readable text: replacement characters and control codes."""


def _unknown_case(parsed: ParsedMessage, config: MailConfig) -> str | None:
    """The first case reference a subject names (called when the register holds none of them)."""
    found = case_ref_pattern(config.compact_profile).findall(parsed.subject)
    return found[0].upper() if found else None


def _unreadable(parsed: ParsedMessage) -> str | None:
    """Why a message cannot be read by routing (a person must), or None."""
    if not parsed.subject.strip() and not parsed.text.strip() and parsed.problems:
        return "; ".join(parsed.problems)
    sample = parsed.text[:4_000]
    if sample and len(_NOISE.findall(sample)) > len(sample) * 0.05:
        return "its text is not readable (binary data, or a charset it does not declare)"
    if parsed.from_address is None and parsed.problems:
        return "no sender address, and " + "; ".join(parsed.problems)
    return None


def extract_facts(parsed: ParsedMessage, config: MailConfig,
                  register: CaseRegister | None = None) -> DisputeFacts:
    """Everything the stage decision needs, read from one parsed message (reads, never writes)."""
    return read_message(parsed, config, register).facts


def _organisation(config: MailConfig, address: str | None) -> tuple[str | None, bool | None, str | None]:
    match = config.organisation_for(address)
    if match is None:
        return None, None, None
    org, how = match
    kind = "commissioned" if org.commissioned else "not commissioned"
    return org.name, org.commissioned, f"{address} is {org.name} ({kind}), matched by {how}"


@dataclass
class _Whose:
    """Whose message routing decides on, and what it reads: the sender's, or a forward's original."""

    sender: str | None
    organisation: str | None
    commissioned: bool | None
    sender_organisation: str | None
    acknowledge_to: str | None
    commissioner_side: str | None
    subject: str
    bodies: list[str]


def _returned_message(text: str, sender: str | None) -> str:
    """The sender's own message inside a bounce they forward (after a 'From: ... <sender>' header
    block), or ''."""
    if not sender:
        return ""
    header = re.search(rf"(?im)^[>* ]*from:[^\n]*\b{re.escape(sender)}\b[^\n]*\n(?:[>* ]*[\w-]+:[^\n]*\n)*",
                       text)
    return own_words(text[header.end():]) if header else ""


def _unwrap_forward(parsed: ParsedMessage, config: MailConfig, forward: Forward, whose: _Whose,
                    notes: list[str]) -> None:
    """Decide on a forward's original message and sender where the directory knows them."""
    if machines_mail(forward.sender_address, forward.subject):
        # A bounce or an auto-reply passed on with a note: the note is the person's message, and
        # so is the forwarder's own message that bounced, where the bounce holds it.
        returned = _returned_message(forward.text, parsed.from_address)
        notes.append(f"a forward ({forward.how}) of a machine's mail ({forward.sender}): decided on "
                     f"the forwarder's own words" + (" and their message it returned" if returned else ""))
        whose.bodies = [forward.note, returned] if returned else [forward.note]
        return
    f_org, f_commissioned, f_how = _organisation(config, forward.sender_address)
    note = (f"a forward ({forward.how}) by {parsed.from_address or 'an unknown sender'} of a "
            f"message from {forward.sender}: decided on the forwarded message and its sender")
    whose.bodies = [forward.text]
    whose.subject = forward.subject or clean_subject(whose.subject)
    if f_how is not None:
        if f_org == whose.organisation:  # an organisation forwarding its own earlier message
            whose.bodies = [forward.note, forward.text]
        whose.organisation, whose.commissioned, whose.sender = f_org, f_commissioned, forward.sender_address
        whose.sender_organisation = f_org
        whose.acknowledge_to, whose.commissioner_side = forward.sender_address, None
        notes.append(f"{note}, {f_how}")
    elif whose.organisation is not None:
        notes.append(f"{note}; {forward.sender} is not in the directory, so the forwarder's "
                     f"organisation {whose.organisation} stands")
        whose.bodies, whose.commissioner_side = [forward.note, forward.text], None
    else:
        # Neither is in the directory: the forwarded sender is an unknown organisation (a residents'
        # forum passed on by a councillor), decided on what it wrote; a commissioner passing on a
        # colleague's message raises a problem of its own (the rule for the commissioners' side).
        notes.append(f"{note}; neither is in the organisations directory: unknown organisation, "
                     "and nobody is acknowledged automatically")
        whose.sender, whose.acknowledge_to = forward.sender_address or whose.sender, None
        if forward.sender_address and not config.commissioner_side(forward.sender_address):
            whose.commissioner_side = None


def _own_words_of(bodies: list[str]) -> OwnWords:
    owns = [read_own_words(body) for body in bodies]
    return OwnWords("\n\n".join(o.text for o in owns if o.text), any(o.quoted for o in owns),
                    "\n".join(o.signature for o in owns if o.signature),
                    tuple(d for o in owns for d in o.disclaimers))


@dataclass(frozen=True)
class ReadAhead:
    """What routing reads in a message's words, whatever the register says: the sender's own
    words, the rules that fired, the outright statements and both models' answers.

    The watcher's parsing workers work it out in parallel for a message's own text
    (`read_ahead`); routing reads it again only for a forward, whose words are another's.
    """

    text: str
    own: OwnWords
    dispute: tuple[str, ...]
    tried: tuple[str, ...]
    issues: tuple[FoundIssue, ...]
    rules: tuple[str, ...]
    dispute_outright: tuple[str, ...]
    tried_outright: tuple[str, ...]
    dispute_score: Weighed | None
    tried_score: Weighed | None
    names_issue: bool = False
    other_language: bool = False
    """Written in another language with no English lines for the models to weigh."""


def _read_words(config: MailConfig, subject: str, own: OwnWords, *, dispute: bool = True,
                tried: bool = True) -> ReadAhead:
    # A full stop after the subject keeps a phrase from running on from the subject into the body.
    text = f"{subject}.\n{own.text}"
    signals = config.signals
    dispute_phrases = tuple(signals.find("dispute", text))
    tried_phrases = tuple(signals.find("tried_informal", text))
    issues = find_issue_types(config.compact_profile, text)
    rules = rule_names(dispute_phrases, tried_phrases, issues, text)
    dispute_score, tried_score = weigh(models_for(config), text, rules, dispute=dispute, tried=tried)
    dispute_outright, tried_outright = said_outright(text)
    # An issue named in the sender's words (past the subject, which a reply or a thank-you repeats).
    body = len(normalise(f"{subject}.")) + 1
    names_issue = bool(issues) and not any(r.startswith("other-") for r in rules) and (
        any(found.start >= body for found in issues) or bool(find_issue_types(config.compact_profile, own.text)))
    other_language = "not-english" in rules and words_to_weigh(text) == text
    return ReadAhead(text, own, dispute_phrases, tried_phrases, issues, tuple(rules), dispute_outright,
                     tried_outright, dispute_score, tried_score, names_issue, other_language)


def read_ahead(parsed: ParsedMessage, config: MailConfig) -> ParsedMessage:
    """A parsed message with its own words read and weighed ahead (for the parsing workers).

    Whether it tried informal resolution is asked only of a commissioned organisation's mail.
    """
    _, commissioned, _ = _organisation(config, parsed.from_address)
    own = read_own_words(parsed.text)
    return replace(parsed, ahead=_read_words(config, parsed.subject, own, tried=bool(commissioned)))


def _wanted(config: MailConfig, case: Case | None, commissioned: bool | None) -> tuple[bool, bool]:
    """The models' answers the decision can use: whether it is a dispute, for a message on no
    case; whether it tried informal resolution, for a commissioned organisation's new message or
    its reply on a case at the informal stage."""
    informal = next((s.number for s in config.compact_profile.dispute.stages
                     if s.entry == "commissioned"), None)
    on_informal = bool(case is not None and case.stage == informal and case.commissioned)
    return case is None, bool(commissioned and case is None) or on_informal


def _list_hints(parsed: ParsedMessage, whose: _Whose, notes: list[str]) -> list[str]:
    """List, group or form headers: said in the notes, and nobody is acknowledged automatically."""
    hints = list_hints(parsed)
    if hints:
        notes.append(f"list, group or form headers ({'; '.join(hints)}): read for what it says, never "
                     "acknowledged automatically")
        whose.acknowledge_to = None
    return hints


def read_message(parsed: ParsedMessage, config: MailConfig,
                 register: CaseRegister | None = None) -> MessageReading:
    """Read one parsed message for routing: automatic or not, whose, which case, what it says."""
    notes = [f"parsed with fallbacks: {'; '.join(parsed.problems)}"] if parsed.problems else []
    automatic = automatic_reasons(parsed)
    organisation, commissioned, how = _organisation(config, parsed.from_address)
    if how is not None:
        notes.append(f"sender {how}")
    elif not automatic:
        notes.append(f"sender {parsed.from_address or '(no address)'} is not in the organisations "
                     "directory: unknown organisation")
    if automatic:
        return MessageReading(DisputeFacts(automatic=tuple(automatic), organisation=organisation,
                                           commissioned=commissioned, notes=tuple(notes)))
    case, link, case_notes = find_case(parsed, config, register)
    notes += case_notes
    if parsed.sender_doubt:  # never on a case by its own say-so: a person decides
        if case is not None:
            notes.append(f"names case {case.ref} ({link})")
        return MessageReading(DisputeFacts(
            organisation=organisation, commissioned=commissioned, notes=tuple(notes),
            sender=parsed.from_address, sender_organisation=organisation,
            sender_doubt=parsed.sender_doubt))
    whose = _Whose(parsed.from_address, organisation, commissioned, organisation,
                   parsed.reply_to or parsed.from_address,
                   # a council website's form relays residents and groups: not the council's own words
                   parsed.from_address if config.commissioner_side(parsed.from_address)
                   and form_address(parsed) is None else None,
                   parsed.subject, [parsed.text])
    if organisation is None and not whose.commissioner_side:
        _relayed(parsed, config, whose, notes)
    forward = find_forward(parsed) if case is None else None
    if forward is not None:
        _unwrap_forward(parsed, config, forward, whose, notes)
    colleague = (_colleague(parsed, config)
                 if case is None and forward is None and whose.organisation is None and not whose.commissioner_side
                 else None)
    ahead = _words_ahead(parsed, config, case, whose, forward)
    own, text, rules = ahead.own, ahead.text, ahead.rules
    if removed := _removed(own):
        notes.append(removed)
    # Escalation is asked of a case: a message on none is not searched for it.
    escalation = tuple(config.signals.find("escalation", own.text, outside="tried_informal")) if case else ()
    hints = _list_hints(parsed, whose, notes)
    facts = DisputeFacts(
        case=_state(case) if case else None, case_link=link,
        organisation=whose.organisation if case is None else (case.organisation or whose.organisation),
        commissioned=whose.commissioned if case is None else case.commissioned,
        dispute=ahead.dispute, tried_informal=ahead.tried, escalation=escalation, notes=tuple(notes),
        unreadable=_unreadable(parsed), sender=whose.sender, sender_organisation=whose.sender_organisation,
        policy=tuple(p for p in escalation if POLICY.search(p)),
        dispute_score=ahead.dispute_score, tried_score=ahead.tried_score, issue_types=ahead.issues,
        commissioner_side=whose.commissioner_side, colleague=colleague, list_hints=tuple(hints),
        newsletter=is_newsletter(hints, parsed.from_address, how is not None, parsed.from_name),
        dispute_outright=ahead.dispute_outright, tried_outright=ahead.tried_outright,
        tried_told=any(rule in TRIED_RULES for rule in ahead.rules),
        unknown_case=_unknown_case(parsed, config) if case is None and register is not None else None,
        names_issue=ahead.names_issue, other_language=ahead.other_language)
    return MessageReading(facts, text, tuple(rules), forward, whose.sender, whose.acknowledge_to,
                          own.text)


def _relayed(parsed: ParsedMessage, config: MailConfig, whose: _Whose, notes: list[str]) -> None:
    """A web form or a mailing tool relaying a person (From a relay, Reply-To the person): where
    the Reply-To is a directory organisation's, decide as that organisation's message, and
    acknowledge nobody automatically (a Reply-To is anyone's to write)."""
    reply_to = parsed.reply_to or form_address(parsed)
    if not reply_to or reply_to == parsed.from_address or not _is_relay(parsed, config):
        return
    org, commissioned, how = _organisation(config, reply_to)
    if org is None:
        return
    whom = "its Reply-To" if parsed.reply_to else "the address its form gives"
    notes.append(f"relayed by {parsed.from_address} for {whom}: {how}; nobody is acknowledged "
                 "automatically")
    # The organisation decides the stage; the relay stays the sender, so it never escalates a case.
    whose.organisation, whose.commissioned, whose.acknowledge_to = org, commissioned, None


def _is_relay(parsed: ParsedMessage, config: MailConfig) -> bool:
    """Whether the sender relays others' words: a machine's address, or the mailbox's own
    organisation's (its website's form)."""
    address = (parsed.from_address or "").lower()
    local, _, domain = address.partition("@")
    return bool(machine_sender(address) or RELAY_SENDER.match(local) or domain in config.own_domains
                or (not config.own_domains and _wrote_to_own_domain(parsed, domain)))


def _colleague(parsed: ParsedMessage, config: MailConfig) -> str | None:
    """How the sender is known to be a colleague at the mailbox's own organisation, or None: an
    address in its own domains, or (with none configured) one in the domain it wrote to."""
    address = (parsed.from_address or "").lower()
    domain = address.rsplit("@", 1)[1] if "@" in address else ""
    reply_domain = (parsed.reply_to or address).lower().rpartition("@")[2]
    if not domain or reply_domain != domain:  # a form relaying someone else is not a colleague's mail
        return None
    if domain in config.own_domains:
        return f"{address} is at the mailbox's own organisation ({domain})"
    if not config.own_domains and _wrote_to_own_domain(parsed, domain):
        return f"{address} writes from the domain it wrote to ({domain}): a colleague's mail"
    return None


def _wrote_to_own_domain(parsed: ParsedMessage, domain: str) -> bool:
    """Whether a message was sent to an address in its sender's own domain (a list or group,
    which writes from its own domain to itself, aside)."""
    recipients = " ".join(parsed.headers.get("to", ())).lower()
    return bool(domain) and not list_hints(parsed) and bool(re.search(rf"@{re.escape(domain)}\b", recipients))


def _words_ahead(parsed: ParsedMessage, config: MailConfig, case: Case | None, whose: _Whose,
                 forward: Forward | None) -> ReadAhead:
    """What the message's own words say: as a parsing worker read them ahead, or read now (a
    forward, or a commissioned organisation's mail read ahead without the 'tried' model)."""
    ahead = parsed.ahead if isinstance(parsed.ahead, ReadAhead) else None
    if forward is not None or ahead is None or (whose.commissioned and ahead.tried_score is None
                                                 and models_for(config) is not None):
        want_dispute, want_tried = _wanted(config, case, whose.commissioned)
        ahead = _read_words(config, whose.subject, _own_words_of(whose.bodies), dispute=want_dispute,
                            tried=want_tried)
    return ahead
