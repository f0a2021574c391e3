"""Facts from a parsed message: is it automatic, who sent it, which case it belongs to, what it asks."""

from __future__ import annotations

import re

from compact_docs.disputes import CaseState, DisputeFacts
from compact_docs.register import Case, CaseRegister, case_ref_pattern
from mailflows.config import MailConfig
from mailflows.parsing import ParsedMessage

_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BOUNCE_SUBJECT = re.compile(
    r"^(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed)|"
    r"returned mail|mail delivery (?:failed|failure|system))", re.IGNORECASE)
# Where a reply's own words end and the quoted earlier message begins.
_QUOTE_START = re.compile(
    r"^(?:on [^\n]{0,200}(?:\n[^\n]{0,200})?wrote:\s*$|-{2,}\s*original message\s*-{2,}|_{10,}\s*$|"
    r"from: .+$(?=\n(?:sent|date): ))", re.IGNORECASE | re.MULTILINE)


def automatic_reasons(parsed: ParsedMessage) -> list[str]:
    """Why a message is automatic mail that must never be acknowledged (RFC 3834); empty if it is not."""
    reasons: list[str] = []
    auto = (parsed.header("auto-submitted") or "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        reasons.append(f"Auto-Submitted: {auto}")
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        reasons.append(f"Precedence: {precedence}")
    if parsed.header("list-id") is not None:
        reasons.append("List-Id present (a mailing list)")
    if parsed.return_path == "":
        reasons.append("empty Return-Path (a bounce)")
    if parsed.content_type == "multipart/report" or "message/delivery-status" in parsed.part_types:
        reasons.append("delivery-status report")
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if parsed.header(name) is not None:
            reasons.append(f"{name.title()} present (an auto-reply)")
    local = (parsed.from_address or "").split("@", 1)[0]
    if local in _BOUNCE_SENDERS or _BOUNCE_SUBJECT.match(parsed.subject):
        reasons.append("sent by a mail system (a bounce)")
    return reasons


def own_words(text: str) -> str:
    """A reply's own words: quoted lines ('> ') and the quoted message below 'On ... wrote:' removed."""
    match = _QUOTE_START.search(text)
    if match:
        text = text[: match.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def clean_subject(subject: str) -> str:
    """A subject without reply/forward prefixes and case references, for a case's topic."""
    previous = None
    while previous != subject:
        previous = subject
        subject = re.sub(r"^\s*(?:re|fw|fwd|aw|sv)\s*(?:\[\d+\])?\s*:\s*", "", subject,
                         flags=re.IGNORECASE)
        subject = re.sub(r"^\s*\[[^\]]*\]\s*", "", subject)
    return re.sub(r"\s*\[[A-Z][A-Z0-9]{0,9}-\d{4}-\d{4,}\]\s*", " ", subject).strip()


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


def extract_facts(parsed: ParsedMessage, config: MailConfig,
                  register: CaseRegister | None = None) -> DisputeFacts:
    """Everything the stage decision needs, read from one parsed message (reads, never writes)."""
    notes = [f"parsed with fallbacks: {'; '.join(parsed.problems)}"] if parsed.problems else []
    automatic = automatic_reasons(parsed)
    match = config.organisation_for(parsed.from_address)
    organisation = commissioned = None
    if match is not None:
        org, how = match
        organisation, commissioned = org.name, org.commissioned
        kind = "commissioned" if org.commissioned else "not commissioned"
        notes.append(f"sender {parsed.from_address} is {org.name} ({kind}), matched by {how}")
    elif not automatic:
        notes.append(f"sender {parsed.from_address or '(no address)'} is not in the organisations "
                     "directory: unknown organisation")
    if automatic:
        return DisputeFacts(automatic=tuple(automatic), organisation=organisation,
                            commissioned=commissioned, notes=tuple(notes))
    case, link, case_notes = find_case(parsed, config, register)
    notes += case_notes
    if parsed.sender_doubt:  # never on a case by its own say-so: a person decides
        if case is not None:
            notes.append(f"names case {case.ref} ({link})")
        return DisputeFacts(organisation=organisation, commissioned=commissioned, notes=tuple(notes),
                            sender=parsed.from_address, sender_organisation=organisation,
                            sender_doubt=parsed.sender_doubt)
    # A full stop after the subject keeps a phrase from running on from the subject into the body.
    text = f"{parsed.subject}.\n{own_words(parsed.text)}"
    signals = config.signals
    unreadable = None
    if not parsed.subject.strip() and not parsed.text.strip() and parsed.problems:
        unreadable = "; ".join(parsed.problems)
    return DisputeFacts(
        automatic=(),
        case=_state(case) if case else None,
        case_link=link,
        organisation=organisation if case is None else (case.organisation or organisation),
        commissioned=commissioned if case is None else case.commissioned,
        dispute=tuple(signals.find("dispute", text)),
        tried_informal=tuple(signals.find("tried_informal", text)),
        escalation=tuple(signals.find("escalation", text, outside="tried_informal")),
        notes=tuple(notes),
        unreadable=unreadable,
        sender=parsed.from_address,
        sender_organisation=organisation,
    )
