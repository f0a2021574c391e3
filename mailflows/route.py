"""Routing: classify a message (pure), record it in the case register (one transaction), or both."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from compact_docs.errors import MailError
from compact_docs.register.cases import GROUP_MODE, PRIVATE_MODE, CaseRegister
from compact_docs.register.records import ROUTING_ACTOR, RecordedMessage
from compact_docs.rules.disputes import decide_stage
from mailflows.config import MailConfig
from mailflows.facts import ReadAhead, clean_subject, own_words, read_message
from mailflows.mailboxes import RawMessage, read_eml, read_maildir, read_mbox
from mailflows.parsing import ParsedMessage, parse_message
from mailflows.received import received_at, stamp
from mailflows.tables import MAILBOX_TABLES

EXCERPT_CHARS = 2_000
"""How much of a message's own words the register keeps, for a case's letters."""


@dataclass(frozen=True)
class RoutingDecision:
    """The routing of one message: its disposition, stage and case, and why.

    `action` is what recording it does to the register ('open', 'join', 'escalate' or 'none');
    `acknowledge` says whether an acknowledgement is due, to `acknowledge_to`. A message found
    already recorded has `already_recorded` set and is never acknowledged again.
    """

    disposition: str
    stage: int | None
    case_ref: str | None
    organisation: str | None
    commissioned: bool | None
    message_id: str
    reasons: tuple[str, ...]
    action: str = "none"
    acknowledge: bool = False
    acknowledge_to: str | None = None
    already_recorded: bool = False
    subject: str = ""
    source: str | None = None
    sender: str | None = None
    """The deciding sender (a forward's original sender), kept as the case's sender."""

    @classmethod
    def from_record(cls, recorded: RecordedMessage, *, already_recorded: bool = True,
                    note: str | None = None, subject: str | None = None) -> RoutingDecision:
        """The decision the register kept for a message (never acknowledged again).

        `note` is added to its reasons; `subject` replaces the recorded one (as parsed now).
        """
        return cls(
            disposition=recorded.disposition, stage=recorded.stage, case_ref=recorded.case_ref,
            organisation=recorded.organisation, commissioned=recorded.commissioned,
            message_id=recorded.message_id,
            reasons=recorded.reasons if note is None else (*recorded.reasons, note),
            already_recorded=already_recorded,
            subject=recorded.subject if subject is None else subject, source=recorded.source)

    def lines(self) -> list[str]:
        """The decision for a person: disposition, case, organisation, Message-ID, then the reasons."""
        who = self.organisation or "unknown organisation"
        if self.commissioned is not None:
            who += " (commissioned)" if self.commissioned else " (not commissioned)"
        return [f"{self.disposition:<13} {self.case_ref or 'no case':<15} {who}  {self.message_id}",
                *(f"    - {reason}" for reason in self.reasons)]

    def to_dict(self) -> dict[str, Any]:
        """The `mail classify --json` / `mail route --json` object."""
        return {
            "disposition": self.disposition, "stage": self.stage, "case_ref": self.case_ref,
            "organisation": self.organisation, "commissioned": self.commissioned,
            "message_id": self.message_id, "reasons": list(self.reasons),
        }


def open_register(config: MailConfig, *, readonly: bool = False) -> CaseRegister:
    """The case register a configuration names, under its profile (read-only never creates it),
    with the mailbox's own tables.

    A new register is created 0600, or 0660 with `database_mode = "group"`.
    """
    mode = GROUP_MODE if config.database_mode == "group" else PRIVATE_MODE
    return CaseRegister(config.database_path, config.compact_profile, readonly=readonly,
                        tables=(MAILBOX_TABLES,), file_mode=mode)


def _already_routed(recorded: RecordedMessage, parsed: ParsedMessage) -> RoutingDecision:
    return RoutingDecision.from_record(
        recorded, note=f"already recorded at {recorded.recorded}: not routed again", subject=parsed.subject)


def excerpt(parsed: ParsedMessage) -> str:
    """The start of a message's own words, as the register keeps it for a case's letters.

    Those words were read already when the message's words were read ahead (`ReadAhead.own`,
    the own words of `parsed.text`): they are not read a second time.
    """
    ahead = parsed.ahead
    words = ahead.own.text if isinstance(ahead, ReadAhead) else own_words(parsed.text)
    return words.strip()[:EXCERPT_CHARS]


def _plain(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def same_content(recorded: RecordedMessage, parsed: ParsedMessage) -> bool:
    """Whether a message is a re-delivery of a recorded one: the same sender, subject and words.

    Transport changes (another Received, Return-Path or Delivered-To, a re-encoded body, other
    line ends) do not count; another subject or other words make it another message.
    """
    return (_plain(recorded.sender) == _plain(parsed.from_address)
            and _plain(recorded.subject) == _plain(parsed.subject)
            and _plain(recorded.excerpt) == _plain(excerpt(parsed)))


def content_identity(parsed: ParsedMessage) -> str:
    """A stable identity for a message from its content: '<sha256@compact-docs>'.

    The SHA-256 covers the sender, the subject, the text and the attachments' names as parsed
    (whitespace aside), so a re-delivery of the message always gives the same identity and a
    different message a different one. It is how a message is known whose Message-ID was
    already used for another message.
    """
    content = json.dumps({"sender": parsed.from_address, "subject": _plain(parsed.subject),
                          "text": " ".join(parsed.text.split()), "attachments": parsed.attachments},
                         ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<{digest}@compact-docs>"


def message_identity_in(parsed: ParsedMessage,
                        register: CaseRegister | None) -> tuple[str, RecordedMessage | None, str | None]:
    """The identity a message is recorded under, its earlier routing if any, and why it differs.

    Normally that is its Message-ID, and a message whose Message-ID is recorded is a
    re-delivery when its content is the same (`same_content`). When the register holds that
    Message-ID for a different message (a web form that sends every message with one ID, a
    broken mailer, a spoof), the message is a new one, known by its content identity; the third
    value then says so, for the decision's reasons.
    """
    if register is None:
        return parsed.message_id, None, None
    recorded = register.recorded_message(parsed.message_id)
    if recorded is None or same_content(recorded, parsed):
        return parsed.message_id, recorded, None
    identity = content_identity(parsed)
    if recorded.sender and parsed.from_address and recorded.sender.lower() != parsed.from_address.lower():
        how = f"reused by a different sender (first recorded from {recorded.sender})"
    else:
        how = f"already used for a different message (another subject or text, recorded at {recorded.recorded})"
    why = f"Message-ID {parsed.message_id} was {how}: a new message, identified as {identity}"
    return identity, register.recorded_message(identity), why


def acknowledgement_recipient(parsed: ParsedMessage, config: MailConfig) -> tuple[str | None, str | None]:
    """Whom an acknowledgement of a message may reach, and why not its Reply-To when that is set.

    The sender's own address (the one inside <...> of From), or its Reply-To only when both
    belong to the same organisation of the directory: an acknowledgement is never aimed at an
    address a stranger chose. Nobody when the From header cannot be trusted.
    """
    if parsed.sender_doubt or not parsed.from_address:
        return None, None
    reply_to = parsed.reply_to
    if not reply_to or reply_to == parsed.from_address:
        return parsed.from_address, None
    sender = config.organisation_for(parsed.from_address)
    replies = config.organisation_for(reply_to)
    if sender is not None and replies is not None and sender[0].name == replies[0].name:
        return reply_to, None
    whose = (f"one of {sender[0].name}'s addresses" if sender is not None
             else "the sender's, who is in no organisation of the directory")
    return parsed.from_address, (f"Reply-To {reply_to} is not {whose}: an acknowledgement "
                                 f"would go to the sender, {parsed.from_address}")


def classify(parsed: ParsedMessage, config: MailConfig | None = None,
             register: CaseRegister | None = None) -> RoutingDecision:
    """Decide where a parsed message goes, reading (never writing) the register."""
    config = config or MailConfig()
    message_id, recorded, reused = message_identity_in(parsed, register)
    if recorded is not None:
        return _already_routed(recorded, parsed)
    reading = read_message(parsed, config, register)
    facts = reading.facts
    decision = decide_stage(config.compact_profile, facts)
    reply_to, reply_note = acknowledgement_recipient(parsed, config)
    if reading.forward is not None or reading.acknowledge_to is None:
        # A forward is acknowledged to its original sender, when the directory knows them; list
        # mail and a forward of someone unknown, to nobody.
        reply_to = reading.acknowledge_to if not parsed.sender_doubt else None
    if reply_to is None and decision.disposition != "ignored" and not (facts.automatic or facts.sender_doubt):
        decision = replace(decision, reasons=(*decision.reasons, "not acknowledged automatically"))
    reasons = decision.reasons
    if reply_note is not None and decision.disposition != "ignored":
        reasons = (reply_note, *reasons)
    if parsed.message_id_generated:
        reasons = (*reasons, f"no usable Message-ID: identified as {parsed.message_id}")
    if reused is not None:
        reasons = (reused, *reasons)
    return RoutingDecision(
        disposition=decision.disposition,
        stage=decision.stage,
        case_ref=facts.case.ref if facts.case else None,
        organisation=facts.organisation,
        commissioned=facts.commissioned,
        message_id=message_id,
        reasons=reasons,
        action=decision.action,
        acknowledge=decision.disposition != "ignored" and reply_to is not None,
        acknowledge_to=reply_to if decision.disposition != "ignored" else None,
        subject=parsed.subject,
        sender=reading.sender,
    )


def record(decision: RoutingDecision, parsed: ParsedMessage, register: CaseRegister,
           source: str | None = None, *, arrived: datetime | None = None) -> RoutingDecision:
    """Write a decision to the register in one transaction; returns it with its case reference.

    A case opens, the message joins its case, or the case moves up a stage, as the decision says;
    every message (ignored ones too) is kept, so routing it again is recognised and changes nothing.
    Case dates come from the mail: the Date header, or ``arrived`` (the server's INTERNALDATE)
    when that is missing or absurd, so a backlog routed today shows its true age.
    """
    with register.transaction():
        if register.knows_message(decision.message_id):
            recorded = register.recorded_message(decision.message_id)
            assert recorded is not None
            return _already_routed(recorded, parsed)
        reason = decision.reasons[-1] if decision.reasons else ""
        case_ref = decision.case_ref
        sender = parsed.from_address
        received = stamp(received_at(parsed.date, arrived, datetime.fromisoformat(register.now())))
        if decision.action == "open" and decision.stage is not None:
            case_ref = register.open_case_ref(
                organisation=decision.organisation, commissioned=decision.commissioned,
                stage=decision.stage, topic=clean_subject(parsed.subject) or "(no subject)",
                actor=ROUTING_ACTOR, reason=reason, message_id=decision.message_id,
                sender=decision.sender or sender, received=received)
        elif decision.action in ("join", "escalate") and case_ref is not None:
            register.join_case(case_ref, decision.message_id, actor=ROUTING_ACTOR,
                               reason=reason if decision.action == "join" else "reply joined the case",
                               subject=parsed.subject, sender=sender, received=received)
            if decision.action == "escalate":
                register.escalate(case_ref, actor=ROUTING_ACTOR, reason=reason,
                                  message_id=decision.message_id, since=received)
        register.keep_message(RecordedMessage(
            message_id=decision.message_id, disposition=decision.disposition, stage=decision.stage,
            case_ref=case_ref, organisation=decision.organisation,
            commissioned=decision.commissioned, reasons=decision.reasons,
            subject=parsed.subject, sender=sender, sender_name=parsed.from_name, source=source,
            excerpt=excerpt(parsed), received=received))
    return replace(decision, case_ref=case_ref, source=source)


def route_message(raw: bytes, config: MailConfig, register: CaseRegister,
                  source: str | None = None) -> RoutingDecision:
    """Parse, classify and record one raw message; the decision and the write share one transaction."""
    parsed = parse_message(raw, config.max_text_chars)
    with register.transaction():
        decision = classify(parsed, config, register)
        if decision.already_recorded:
            return decision
        return record(decision, parsed, register, source)


def route_messages(messages: Iterable[RawMessage], config: MailConfig,
                   register: CaseRegister) -> Iterator[RoutingDecision]:
    """Route messages in order, yielding each decision as soon as it is recorded."""
    for message in messages:
        yield route_message(message.data, config, register, message.source)


def classify_file(path: str | Path, config: MailConfig | None = None) -> RoutingDecision:
    """Classify one message file against the configured register (read-only; nothing is written)."""
    parsed = parse_message(read_eml(path).data, (config or MailConfig()).max_text_chars)
    if config is None:
        return classify(parsed)
    with open_register(config, readonly=True) as register:
        return classify(parsed, config, register)


def route_mailbox(config: MailConfig, *, mbox: str | Path | None = None,
                  maildir: str | Path | None = None) -> Iterator[RoutingDecision]:
    """Route every message of an mbox file or a Maildir folder, in order, into the register."""
    if (mbox is None) == (maildir is None):
        raise MailError("give exactly one mailbox: an mbox file or a Maildir folder")
    messages = read_mbox(mbox) if mbox is not None else read_maildir(maildir or "")
    return _route_all(messages, config)


def _route_all(messages: Iterator[RawMessage], config: MailConfig) -> Iterator[RoutingDecision]:
    with open_register(config) as register:
        yield from route_messages(messages, config, register)
