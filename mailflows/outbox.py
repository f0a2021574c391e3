"""The acknowledgement outbox: replies queued with the routing that caused them, then sent and retried."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import sqlite3
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from compact_docs.errors import MailError
from compact_docs.register import CaseRegister
from mailflows.acknowledgement import build_acknowledgement
from mailflows.config import MailConfig
from mailflows.facts import automatic_reasons
from mailflows.imap import Disconnected
from mailflows.parsing import ParsedMessage
from mailflows.route import RoutingDecision
from mailflows.smtp import SmtpAccount, SmtpConnection, SmtpRefused

log = logging.getLogger("mailflows.watch")

ACKNOWLEDGED_ACTIONS = frozenset({"open", "escalate"})
"""An acknowledgement goes out once per new case and once per escalation, never per reply."""
LONGEST_RETRY = timedelta(hours=6)
CLAIM_FOR = timedelta(minutes=10)
"""How long an acknowledgement taken for sending is left alone by other deliverers."""
ATTEMPTS_BEFORE_GIVING_UP = 5
"""An attempt this late that the server refuses (4xx, "not now") gives the entry up; a 5xx gives it up at once."""


@dataclass(frozen=True)
class QueuedAcknowledgement:
    """One acknowledgement in the outbox: queued, sent (``sent`` set), waiting for a retry, or
    given up (``given_up`` set, ``last_error`` says why) after the server refused it.

    ``refused`` lists the recipients the server refused when it accepted the others: the
    acknowledgement counts as sent and is not sent again.
    """

    id: int
    message_id: str
    case_ref: str | None
    recipient: str
    recipients: tuple[str, ...]
    content: bytes
    attempts: int
    last_error: str | None
    sent: str | None
    refused: tuple[str, ...] = ()
    given_up: str | None = None
    next_attempt: str | None = None

    def message(self) -> EmailMessage:
        """The acknowledgement as an email message, as it was built when queued."""
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def state(self) -> str:
        """'sent', 'partly sent' (the server refused some recipients), 'given up' or 'waiting'
        (queued, or waiting for its next attempt)."""
        if self.sent:
            return "partly sent" if self.refused else "sent"
        return "given up" if self.given_up else "waiting"

    def to_dict(self) -> dict[str, Any]:
        """The entry as `mail outbox --json` prints it (without the message itself)."""
        return {"id": self.id, "state": self.state, "message_id": self.message_id,
                "case_ref": self.case_ref, "recipients": list(self.recipients),
                "subject": str(self.message().get("Subject", "")), "attempts": self.attempts,
                "last_error": self.last_error, "sent": self.sent, "refused": list(self.refused),
                "given_up": self.given_up, "next_attempt": None if self.sent or self.given_up
                else self.next_attempt}


@dataclass(frozen=True)
class OutboxDelivery:
    """What one delivery round did: sent, failed (to be retried), given up, and still waiting."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    given_up: int = 0


class Outbox:
    """The outbox table of a case register, with a daily limit of acknowledgements per address.

    The limit counts what was queued for an address on the register's current (UTC) day, so it
    holds across restarts and however many messages one sender writes.
    """

    def __init__(self, register: CaseRegister, *, daily_limit: int = 5,
                 retry_after: timedelta = timedelta(minutes=5)) -> None:
        self.register = register
        self.daily_limit = daily_limit
        self.retry_after = retry_after

    def queued_today(self, address: str) -> int:
        """How many acknowledgements were queued today with this address among their recipients
        (To or Cc: a copied commissioner counts as much as the sender)."""
        row = self.register.execute(
            "SELECT COUNT(*) FROM outbox WHERE day = ? AND EXISTS (SELECT 1 FROM "
            "json_each(outbox.recipients) WHERE lower(json_each.value) = ?)",
            (self.register.now()[:10], address.strip().lower())).fetchone()
        return int(row[0])

    def queue(self, message: EmailMessage, case_ref: str | None) -> QueuedAcknowledgement:
        """Put an acknowledgement in the outbox (inside the caller's transaction, if any)."""
        recipients = tuple(address for _name, address in
                           getaddresses([*message.get_all("To", []), *message.get_all("Cc", [])])
                           if address)
        if not recipients:
            raise MailError("an acknowledgement needs a recipient")
        now = self.register.now()
        message_id = str(message["Message-ID"])
        # A non-ASCII address has no valid 7-bit form (RFC 2047 words are not allowed in one):
        # such a message is kept in UTF-8 (RFC 6532) and needs a server offering SMTPUTF8.
        international = not all(address.isascii() for address in (*recipients, str(message["From"])))
        content = message.as_bytes(policy=email.policy.SMTPUTF8 if international else email.policy.SMTP)
        with self.register.transaction():
            self.register.execute(
                "INSERT INTO outbox (message_id, in_reply_to, case_ref, recipient, recipients, content, "
                "queued, day, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (message_id, str(message.get("In-Reply-To", "")), case_ref, recipients[0].lower(),
                 json.dumps(recipients), content, now, now[:10], now))
            if case_ref:
                self.register.add_outgoing(case_ref, message_id, str(message["Subject"]))
        found = self.by_message_id(message_id)
        assert found is not None
        return found

    def by_message_id(self, message_id: str) -> QueuedAcknowledgement | None:
        """The outbox entry of an acknowledgement's Message-ID, or None."""
        row = self.register.execute("SELECT * FROM outbox WHERE message_id = ?",
                                    (message_id,)).fetchone()
        return _queued(row) if row else None

    def for_case(self, case_ref: str) -> list[QueuedAcknowledgement]:
        """Every acknowledgement queued on a case, oldest first."""
        rows = self.register.execute("SELECT * FROM outbox WHERE case_ref = ? ORDER BY id",
                                     (case_ref,)).fetchall()
        return [_queued(row) for row in rows]

    def due(self) -> list[QueuedAcknowledgement]:
        """Unsent acknowledgements whose next attempt has come, oldest first."""
        rows = self.register.execute(
            "SELECT * FROM outbox WHERE sent IS NULL AND given_up IS NULL AND next_attempt <= ? "
            "ORDER BY id", (self.register.now(),)).fetchall()
        return [_queued(row) for row in rows]

    def queued_ever(self) -> bool:
        """Whether any acknowledgement was ever queued (sent or not)."""
        return self.register.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is not None

    def waiting(self) -> int:
        """How many acknowledgements are not sent yet (and not given up)."""
        return int(self.register.execute(
            "SELECT COUNT(*) FROM outbox WHERE sent IS NULL AND given_up IS NULL").fetchone()[0])

    def given_up(self) -> list[QueuedAcknowledgement]:
        """The acknowledgements given up after the server refused them, oldest first."""
        rows = self.register.execute("SELECT * FROM outbox WHERE given_up IS NOT NULL ORDER BY id").fetchall()
        return [_queued(row) for row in rows]

    def entries(self, *, include_sent: bool = False) -> list[QueuedAcknowledgement]:
        """The acknowledgements that need a look (waiting, given up, or sent with some recipients
        refused), oldest first; every one with `include_sent`."""
        where = "" if include_sent else " WHERE sent IS NULL OR refused != '[]'"
        rows = self.register.execute(f"SELECT * FROM outbox{where} ORDER BY id").fetchall()
        return [_queued(row) for row in rows]

    def retry(self, ids: Iterable[int] = (), *, every_given_up: bool = False) -> list[QueuedAcknowledgement]:
        """Make given-up acknowledgements due again at the next delivery (`mail watch`), with fresh
        attempts.

        `ids` names given-up outbox entries; `every_given_up` takes every one instead. An entry
        already sent (even partly) is refused with MailError, never sent twice; so is an unknown
        id, and one still waiting (it may be being sent at this moment: its time is left alone).
        Returns the entries made due.
        """
        wanted = list(dict.fromkeys(ids))
        if wanted and every_given_up:
            raise MailError("name the acknowledgements to retry, or retry every given-up one, not both")
        with self.register.transaction():
            if not every_given_up:
                chosen = []
                for number in wanted:
                    row = self.register.execute("SELECT * FROM outbox WHERE id = ?", (number,)).fetchone()
                    if row is None:
                        raise MailError(f"there is no acknowledgement {number} in the outbox "
                                        "(see `compact-docs mail outbox`)")
                    entry = _queued(row)
                    if entry.sent:
                        refused = f" (the server refused {', '.join(entry.refused)})" if entry.refused else ""
                        raise MailError(f"acknowledgement {number} was sent at {entry.sent}{refused}; "
                                        "it is not sent twice")
                    if not entry.given_up:
                        raise MailError(f"acknowledgement {number} is not given up: the watcher tries it "
                                        f"again from {entry.next_attempt}")
                    chosen.append(entry)
            else:
                chosen = self.given_up()
            for entry in chosen:
                self.register.execute(
                    "UPDATE outbox SET given_up = NULL, attempts = 0, next_attempt = ? WHERE id = ?",
                    (self.register.now(), entry.id))
        return [found for entry in chosen if (found := self.by_message_id(entry.message_id))]

    def claim(self, queued: QueuedAcknowledgement) -> bool:
        """Take a due acknowledgement for sending; False if it is no longer due (sent, given up, or
        taken by another watcher delivering at the same moment).

        The claim moves its next attempt CLAIM_FOR later, so if this process stops between sending
        and noting the result, the acknowledgement is tried again then, and not before.
        """
        now = self.register.now()
        until = (datetime.fromisoformat(now) + CLAIM_FOR).isoformat(timespec="seconds")
        with self.register.transaction():
            cursor = self.register.execute(
                "UPDATE outbox SET next_attempt = ? WHERE id = ? AND sent IS NULL AND given_up IS NULL "
                "AND next_attempt <= ?", (until, queued.id, now))
        return cursor.rowcount == 1

    def mark_sent(self, queued: QueuedAcknowledgement, refused: Mapping[str, str] | None = None) -> None:
        """Note that an acknowledgement was handed to the SMTP server, and who it refused, if any."""
        note = "; ".join(f"refused {address}: {reply}" for address, reply in (refused or {}).items())
        with self.register.transaction():
            self.register.execute(
                "UPDATE outbox SET sent = ?, attempts = attempts + 1, last_error = ?, refused = ? "
                "WHERE id = ?",
                (self.register.now(), note or None, json.dumps(list(refused or ())), queued.id))

    def give_up(self, queued: QueuedAcknowledgement, reason: str) -> None:
        """Note that an acknowledgement will not be tried again, and why."""
        with self.register.transaction():
            self.register.execute(
                "UPDATE outbox SET given_up = ?, attempts = attempts + 1, last_error = ? WHERE id = ? "
                "AND sent IS NULL", (self.register.now(), reason, queued.id))

    def mark_failed(self, queued: QueuedAcknowledgement, error: str) -> None:
        """Note a failed attempt; the next waits longer each time (at most six hours)."""
        attempts = queued.attempts + 1
        delay = min(self.retry_after * 2 ** min(attempts - 1, 16), LONGEST_RETRY)
        retry = datetime.fromisoformat(self.register.now()) + delay
        with self.register.transaction():
            self.register.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt = ? WHERE id = ? "
                "AND sent IS NULL AND given_up IS NULL",
                (attempts, error, retry.isoformat(timespec="seconds"), queued.id))


def _queued(row: sqlite3.Row) -> QueuedAcknowledgement:
    return QueuedAcknowledgement(
        id=int(row["id"]), message_id=row["message_id"], case_ref=row["case_ref"],
        recipient=row["recipient"], recipients=tuple(json.loads(row["recipients"])),
        content=bytes(row["content"]), attempts=int(row["attempts"]), last_error=row["last_error"],
        sent=row["sent"], refused=tuple(json.loads(row["refused"])), given_up=row["given_up"],
        next_attempt=row["next_attempt"])


def acknowledge(decision: RoutingDecision, parsed: ParsedMessage, config: MailConfig,
                outbox: Outbox) -> tuple[QueuedAcknowledgement | None, str | None]:
    """Queue the acknowledgement a freshly routed message is due, if any; say why when none is,
    or what was left out of the one queued.

    Due once per new case and once per escalation; never for automatic mail (RFC 3834), never
    for a message whose From header is in doubt, never to our own address. It goes to
    `decision.acknowledge_to` (see `mailflows.route.acknowledgement_recipient`); for stage 1 the
    commissioner named in the organisations directory is copied only when
    ``[mail.acknowledgements] copy_commissioner`` says so (the organisation may want advice first).
    Every recipient counts against the daily limit per address: the sender over it gets nothing,
    a commissioner over it is not copied.
    """
    if decision.already_recorded or decision.action not in ACKNOWLEDGED_ACTIONS:
        return None, None
    automatic = automatic_reasons(parsed)
    if automatic:
        return None, f"no acknowledgement: automatic mail ({automatic[0]})"
    smtp = config.mail.smtp
    if smtp is None:
        return None, None
    to = (decision.acknowledge_to or "").strip().lower()
    if to and to == smtp.sender.strip().lower():
        return None, "no acknowledgement: the message came from our own address"
    message = build_acknowledgement(decision, parsed, config, sender=smtp.sender)
    if message is None:
        return None, None
    if outbox.queued_today(to) >= outbox.daily_limit:
        return None, (f"no acknowledgement: {outbox.daily_limit} already sent to {to} today "
                      "(the daily limit)")
    note = None
    entry = config.organisation_named(decision.organisation)
    if (config.mail.acknowledgements.copy_commissioner and decision.stage == 1 and entry is not None
            and entry.commissioner):
        copy = entry.commissioner.strip().lower()
        if copy in (to, smtp.sender.strip().lower()):
            pass  # its recipient already, or ourselves
        elif outbox.queued_today(copy) >= outbox.daily_limit:
            note = (f"{entry.commissioner} not copied: {outbox.daily_limit} already sent to it today "
                    "(the daily limit)")
        else:
            message["Cc"] = entry.commissioner
    return outbox.queue(message, decision.case_ref), note


def deliver(outbox: Outbox, account: SmtpAccount, *, environ: Mapping[str, str] | None = None,
            ssl_context: ssl.SSLContext | None = None) -> OutboxDelivery:
    """Send the acknowledgements that are due over one SMTP session; never raises for SMTP trouble.

    Each is sent with a null return path (RFC 3834 section 3.3). One accepted by the server
    for some recipients is sent (those refused are noted on it), so nobody gets it twice. A
    failure is noted on the entry, which is tried again later; an unreachable server leaves
    every entry for later. A refusal that sending again cannot change (5xx), or the
    ``ATTEMPTS_BEFORE_GIVING_UP``-th attempt ending in a refusal, gives the entry up.
    """
    due = outbox.due()
    if not due:
        return OutboxDelivery(waiting=outbox.waiting())
    sent = failed = given_up = 0
    connection = SmtpConnection(account, environ=environ, ssl_context=ssl_context)
    try:
        connection.connect()
    except MailError as exc:
        for queued in due:
            outbox.mark_failed(queued, str(exc))
        log.warning("acknowledgements: %d waiting, SMTP not reachable: %s", len(due), exc)
        return OutboxDelivery(failed=len(due), waiting=outbox.waiting())
    try:
        for queued in due:
            if not outbox.claim(queued):
                continue  # another watcher has it, or it was sent or given up meanwhile
            try:
                refused = connection.send_message(queued.message(), recipients=queued.recipients,
                                                  envelope_sender="")
            except Disconnected as exc:
                outbox.mark_failed(queued, str(exc))
                failed += 1
                log.warning("acknowledgements: SMTP session lost, the rest wait: %s", exc)
                break
            except SmtpRefused as exc:
                if exc.permanent or queued.attempts + 1 >= ATTEMPTS_BEFORE_GIVING_UP:
                    outbox.give_up(queued, str(exc))
                    given_up += 1
                    log.error("acknowledgement %s to %s given up after %d attempt(s): %s",
                              queued.message_id, ", ".join(queued.recipients), queued.attempts + 1, exc)
                else:
                    outbox.mark_failed(queued, str(exc))
                    failed += 1
                    log.warning("acknowledgement %s to %s refused for now, will retry: %s",
                                queued.message_id, ", ".join(queued.recipients), exc)
                continue
            except MailError as exc:  # this one waits, the others go
                outbox.mark_failed(queued, str(exc))
                failed += 1
                log.warning("acknowledgement %s to %s not sent, will retry: %s",
                            queued.message_id, ", ".join(queued.recipients), exc)
                continue
            outbox.mark_sent(queued, refused)
            sent += 1
            accepted = [r for r in queued.recipients if r not in refused]
            log.info("acknowledgement %s sent to %s (case %s)", queued.message_id,
                     ", ".join(accepted), queued.case_ref or "none")
            if refused:
                log.warning("acknowledgement %s: the server refused %s; not sent again", queued.message_id,
                            "; ".join(f"{address} ({reply})" for address, reply in refused.items()))
    finally:
        connection.quit()
    return OutboxDelivery(sent=sent, failed=failed, waiting=outbox.waiting(), given_up=given_up)
