"""The IMAP watcher: BVSC's dispute inbox routed exactly once, through crashes, disconnects and bad mail."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import signal
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from types import FrameType
from typing import TextIO

from compact_docs.errors import CompactError, Disconnected, MailError
from compact_docs.register.cases import CaseRegister
from compact_docs.register.deadlines import CaseDeadlines, overdue_line
from compact_docs.register.records import RecordedMessage
from compact_docs.rules.dates import bank_holidays
from mailflows.config import MailConfig
from mailflows.connections import destination_folders, imap_account, smtp_account
from mailflows.corrections import MailboxCorrections, MailboxPlacements
from mailflows.facts import automatic_reasons, read_ahead
from mailflows.journal import JournalEntry, MailboxJournal, Routed
from mailflows.outbox import Outbox, acknowledge, deliver
from mailflows.parser_pool import ParserPool, ParsingBatch
from mailflows.parsing import ParsedMessage
from mailflows.received import received_at, stamp
from mailflows.route import RoutingDecision, classify, excerpt, open_register, record
from mailflows.servers.imap import ImapConnection
from mailflows.servers.imap_responses import FetchedMessage, FolderState
from mailflows.watch_summary import WatchedMessage as WatchedMessage  # re-exported: its home until now
from mailflows.watch_summary import WatchSummary as WatchSummary

log = logging.getLogger("mailflows.watch")

ONCE_RECONNECTS = 3
"""How many lost connections in a row, with no message routed or moved in between, `--once`
rides out before it gives up."""
_NEW_MAIL = frozenset({b"EXISTS", b"RECENT"})


@dataclass(frozen=True)
class _Fetched:
    """A batch read from the inbox: its UIDs, those an earlier run recorded, the new messages."""

    uids: Sequence[int]
    known: dict[int, JournalEntry]
    fetched: list[FetchedMessage]
    parsing: ParsingBatch


CATCH_UP_PASSES = 20
"""Searches of the inbox in one catch-up at most (a folder that refills itself cannot spin forever)."""


class MailboxWatcher:
    """Routes the configured inbox: the backlog first, then new mail as IDLE reports it.

    Every message is fetched with BODY.PEEK (never marked read), decided, written to the case
    register together with its journal entry and any acknowledgement in one transaction, and
    only then moved: one UID MOVE per destination folder per batch. A run that stops anywhere
    leaves each message either unrecorded (routed next time) or recorded (moved next time,
    without touching its case again). ``stop`` ends the run after the current batch.
    """

    def __init__(self, config: MailConfig, *, environ: Mapping[str, str] | None = None,
                 ssl_context: ssl.SSLContext | None = None,
                 on_message: Callable[[WatchedMessage], None] | None = None,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.settings = config.mail.watch
        self.account = imap_account(config)
        self.smtp = smtp_account(config)
        self.inbox = self.account.inbox
        self.environ = environ
        self.ssl_context = ssl_context
        self.on_message = on_message
        self.stop = stop or threading.Event()
        self.summary = WatchSummary()
        self.connection = ImapConnection(self.account, environ=environ, ssl_context=ssl_context)
        self._folders = destination_folders(config)
        # The workers read each message's words ahead (no register needed); routing decides.
        self.parser = ParserPool(prepare=partial(_read_ahead, config=config))
        self._overdue_logged: date | None = None
        self._holidays = threading.Thread(target=_load_bank_holidays, args=(config,), daemon=True)
        """Loads the bank holidays the overdue line counts working days with (a tenth of a second
        of imports) while the run connects and fetches, rather than after the pass."""
        self.parser.before_fork = self._holidays_loaded
        self._progress = 0  # messages recorded or moved so far: what tells a new failure from the same
        self._unreported: dict[tuple[int, int], WatchedMessage] = {}
        """Messages recorded by this run and not yet reported, by (UIDVALIDITY, UID): a lost
        connection may have come between their move and the report."""

    # -- the run -----------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> WatchSummary:
        """Route the backlog, then (unless ``once``) wait for new mail until ``stop`` is set.

        A lost connection is re-made after a pause that doubles each time up to the configured
        maximum, then the inbox is caught up. Raises MailError for what waiting will not fix
        (a refused login, an unverifiable certificate, a missing IDLE).
        """
        delay = 1.0
        failures = 0
        progress_at_failure = 0
        if self._holidays.ident is None:
            self._holidays.start()
        with open_register(self.config) as register:
            journal = MailboxJournal(register)
            outbox = Outbox(register, daily_limit=self.settings.acknowledgements_per_address_per_day,
                            retry_after=timedelta(minutes=self.settings.acknowledgement_retry_minutes))
            try:
                while not self.stop.is_set():
                    try:
                        state = self._connect(journal)
                        self.catch_up(register, journal, outbox, state)
                        failures, delay = 0, 1.0  # caught up: whatever failed before is over
                        if once:
                            break
                        log.info("waiting for new mail in %s (IDLE)", self.inbox)
                        while not self.stop.is_set():
                            self._wait_for_mail()
                            self.catch_up(register, journal, outbox, state)
                    except Disconnected as exc:
                        # A login is no sign the trouble is over (a server may drop every session
                        # at the same command): only messages routed or moved since the last
                        # failure make this one a new failure rather than the same again.
                        if self._progress > progress_at_failure:
                            failures, delay = 0, 1.0
                        progress_at_failure = self._progress
                        failures += 1
                        self.summary.reconnects += 1
                        if once and failures > ONCE_RECONNECTS:
                            raise MailError(f"{exc} (giving up: the connection failed {failures} times in a "
                                            "row with no message routed or moved in between)") from exc
                        log.warning("connection lost or refused (%s); reconnecting in %.0f s", exc, delay)
                        self.stop.wait(delay)
                        delay = min(delay * 2, self.settings.reconnect_max_seconds)
            except BaseException:
                self.connection.close()  # a crash or an error: no polite goodbye
                raise
            finally:
                self.parser.close()
            self.connection.logout()
            self._deliver(outbox)
        return self.summary

    def _connect(self, journal: MailboxJournal) -> FolderState:
        self.connection.connect()
        created = self.connection.ensure_folders(self._folders)
        if created:
            log.info("created folders: %s", ", ".join(created))
        state = self.connection.select_folder(self.inbox)
        stale = journal.retire_other_uidvalidities(self.inbox, state.uidvalidity)
        if stale:
            log.warning("%s has a new UIDVALIDITY (%d): %d unfinished journal entries of the old one "
                        "retired; its messages are recognised by Message-ID", self.inbox,
                        state.uidvalidity, stale)
        return state

    def _wait_for_mail(self) -> None:
        """IDLE (RFC 2177) until new mail arrives, the renewal time comes, or ``stop`` is set."""
        renew = self.settings.idle_renew_minutes * 60
        arrived = self.connection.wait_for_changes(renew, renew_after=renew, stop=self.stop, kinds=_NEW_MAIL)
        if not arrived and not self.stop.is_set():
            log.info("renewing IDLE")

    # -- catching up -------------------------------------------------------------------------

    def catch_up(self, register: CaseRegister, journal: MailboxJournal, outbox: Outbox,
                 state: FolderState) -> None:
        """Route and move every message in the inbox now, batch by batch, then send replies.

        The inbox is searched again after each pass until a search finds nothing new: mail that
        arrives while a backlog is routed is announced in replies to FETCH and MOVE, which IDLE
        never sees, so it is not left waiting for the next IDLE renewal.
        """
        handled: set[int] = set()
        for _pass in range(CATCH_UP_PASSES):
            if self.stop.is_set():
                break
            uids = self.connection.search_all()
            settled = journal.reconcile(self.inbox, state.uidvalidity, uids)
            if settled:
                self._progress += len(settled)
                self._report_settled(register, journal, state, settled)
            fresh = [uid for uid in uids if uid not in handled]
            if not fresh:
                break
            handled.update(fresh)
            self._route_uids(register, journal, outbox, state, fresh)
        if not self.stop.is_set():
            self.summary.corrections += len(MailboxCorrections(register, self.config, self.connection).check(state))
            self._log_overdue(register)
        self._deliver(outbox)

    def _log_overdue(self, register: CaseRegister) -> None:
        """Once a day (and at start), one log line of the cases past their stage's deadline."""
        deadlines = CaseDeadlines.for_profile(self.config.compact_profile, self.config.cases.deadline_days())
        today = deadlines.today()
        if self._overdue_logged == today:
            return
        self._overdue_logged = today
        self._holidays_loaded()
        log.info("%s", overdue_line(deadlines, register.cases(status="open"), today))

    def _holidays_loaded(self) -> None:
        if self._holidays.ident is not None:  # started
            self._holidays.join()

    def _route_uids(self, register: CaseRegister, journal: MailboxJournal, outbox: Outbox,
                    state: FolderState, uids: Sequence[int]) -> None:
        size = self.settings.batch_size
        batches = [uids[start : start + size] for start in range(0, len(uids), size)]
        upcoming = self._fetch(journal, state, batches[0]) if batches else None
        for index in range(len(batches)):
            if self.stop.is_set():
                log.info("stopping: %d message(s) left in %s for the next run",
                         sum(map(len, batches[index:])), self.inbox)
                break
            current = upcoming
            assert current is not None
            # Fetch the next batch and start parsing it while this one is recorded and moved
            # (fetching with BODY.PEEK changes nothing on the server).
            upcoming = self._fetch(journal, state, batches[index + 1]) if index + 1 < len(batches) else None
            self._batch(register, journal, outbox, state, current)

    def _fetch(self, journal: MailboxJournal, state: FolderState, uids: Sequence[int]) -> _Fetched:
        known = journal.entries(self.inbox, state.uidvalidity, uids)
        fresh = [uid for uid in uids if uid not in known]
        fetched = list(self.connection.fetch_messages(
            fresh, batch_size=max(len(fresh), 1), size_cap=self.settings.size_cap_bytes))
        parsing = self.parser.start([m.raw for m in fetched], self.config.max_text_chars)
        return _Fetched(uids, known, fetched, parsing)

    def _batch(self, register: CaseRegister, journal: MailboxJournal, outbox: Outbox,
               state: FolderState, batch: _Fetched) -> None:
        uids, known, fetched = batch.uids, batch.known, batch.fetched
        done: dict[int, WatchedMessage] = {}
        routed: list[Routed] = []
        with register.transaction():  # recorded first: nothing is moved before this commits
            # Each message as soon as its chunk is parsed, in order.
            for message, one in zip(fetched, batch.parsing, strict=True):
                done[message.uid] = self._route(register, routed, outbox, state, message, one)
            journal.record_many(self.inbox, state.uidvalidity, routed)
        self._progress += len(fetched)
        for uid in done:
            self._unreported[(state.uidvalidity, uid)] = done[uid]
        for uid, entry in known.items():
            # Recorded by this run before a lost connection, or by an earlier run that stopped.
            done[uid] = self._unreported.get((state.uidvalidity, uid)) or self._resumed(register, entry)
        ordered = [done[uid] for uid in uids if uid in done]
        by_folder: dict[str, list[int]] = {}
        for watched in ordered:
            by_folder.setdefault(watched.folder, []).append(watched.uid)
        moved: set[int] = set()
        try:
            for folder, group in by_folder.items():
                journal.move(self.connection, state, folder, group, known)
                self.summary.moved += len(group)
                self._progress += len(group)
                moved.update(group)
        finally:  # reported once filed, so a line never names a move not made; a drop half-way
            # through leaves the rest to be reported when the next session finds them moved
            self._report(state, [watched for watched in ordered if watched.uid in moved])

    def _report(self, state: FolderState, filed: Sequence[WatchedMessage]) -> None:
        """Count, log and hand on messages now in their folders."""
        for watched in filed:
            self._unreported.pop((state.uidvalidity, watched.uid), None)
            self.summary.count(watched)
            _log_message(watched)
            if self.on_message is not None:
                self.on_message(watched)

    def _report_settled(self, register: CaseRegister, journal: MailboxJournal, state: FolderState,
                        settled: Sequence[int]) -> None:
        """Report messages found moved that no report named yet: moved just before a lost
        connection (this run), or by an earlier run that stopped before noting it."""
        entries = journal.entries(self.inbox, state.uidvalidity, settled)
        filed = []
        for uid in sorted(settled):
            watched = self._unreported.get((state.uidvalidity, uid))
            if watched is not None:
                self.summary.moved += 1  # by this run, whose connection was lost before the answer
            elif uid in entries:
                watched = self._resumed(register, entries[uid])
            if watched is not None:
                filed.append(watched)
        earlier = sum(1 for w in filed if w.resumed)
        if earlier:
            log.info("%d message(s) moved by an earlier run are noted as moved", earlier)
        self._report(state, filed)

    def _route(self, register: CaseRegister, routed: list[Routed], outbox: Outbox,
               state: FolderState, message: FetchedMessage, parsed: ParsedMessage) -> WatchedMessage:
        source = f"imap://{self.account.host}/{self.inbox};UIDVALIDITY={state.uidvalidity}/;UID={message.uid}"
        notes: list[str] = []
        try:
            with register.savepoint():
                if message.unreadable is not None:
                    decision = self._set_aside(register, state, message, source)
                else:
                    decision = classify(parsed, self.config, register)
                    if not decision.already_recorded:
                        decision = record(decision, parsed, register, source, arrived=message.internaldate)
                        if self.smtp is not None:
                            notes += self._acknowledge(register, outbox, decision, parsed)
        except Exception as exc:  # one bad message must not stop the mailbox
            log.warning("UID %d could not be routed (%s): it goes to needs-triage", message.uid, exc,
                        exc_info=not isinstance(exc, CompactError))
            decision = self._triage(register, parsed, source, exc, message.internaldate)
        if message.truncated:
            notes.append(f"over the size cap ({message.size} bytes): read its header and the start "
                         "of its text")
        folder = self.config.mail.folders.for_disposition(decision.disposition)
        # For the journal, with the batch (in its transaction, so still before any move).
        routed.append(Routed(message.uid, decision.message_id, decision.disposition, folder, register.now()))
        # Noted before the move: the router's own moves are never taken for a person's.
        MailboxPlacements(register).place(decision.message_id, folder)
        return WatchedMessage(message.uid, decision, folder, notes=tuple(notes))

    def _acknowledge(self, register: CaseRegister, outbox: Outbox, decision: RoutingDecision,
                     parsed: ParsedMessage) -> list[str]:
        try:
            with register.savepoint():
                queued, why_not = acknowledge(decision, parsed, self.config, outbox)
        except CompactError as exc:  # the routing stands; only the reply is given up
            queued, why_not = None, f"no acknowledgement: {exc}"
        if queued is None:
            return [why_not] if why_not else []
        self.summary.acknowledgements_queued += 1
        return [f"acknowledgement queued for {', '.join(queued.recipients)}", *([why_not] if why_not else [])]

    def _triage(self, register: CaseRegister, parsed: ParsedMessage, source: str,
                exc: Exception, arrived: datetime | None = None) -> RoutingDecision:
        reason = f"could not be routed automatically ({type(exc).__name__}: {exc}); a caseworker decides"
        received = received_at(parsed.date, arrived, datetime.fromisoformat(register.now()))
        recorded = register.record_message(RecordedMessage(
            message_id=parsed.message_id, disposition="needs-triage", stage=None, case_ref=None,
            organisation=None, commissioned=None, reasons=(reason,), subject=parsed.subject,
            sender=parsed.from_address, sender_name=parsed.from_name, source=source,
            excerpt=excerpt(parsed), received=stamp(received)))
        return RoutingDecision.from_record(recorded, already_recorded=False)

    def _set_aside(self, register: CaseRegister, state: FolderState, message: FetchedMessage,
                   source: str) -> RoutingDecision:
        """Record a message that could not be read at all for a person, under an identity of its own."""
        where = hashlib.sha256(f"{self.account.host}/{self.inbox}".encode()).hexdigest()[:12]
        identity = f"<unreadable.{state.uidvalidity}.{message.uid}.{where}@compact-docs>"
        log.warning("UID %d could not be read (%s): it goes to needs-triage", message.uid, message.unreadable)
        received = received_at(None, message.internaldate, datetime.fromisoformat(register.now()))
        recorded = register.record_message(RecordedMessage(
            message_id=identity, disposition="needs-triage", stage=None, case_ref=None, organisation=None,
            commissioned=None, source=source, received=stamp(received),
            reasons=(f"could not be read ({message.unreadable}): set aside for a person",)))
        return RoutingDecision.from_record(recorded, already_recorded=False)

    def _resumed(self, register: CaseRegister, entry: JournalEntry) -> WatchedMessage:
        recorded = register.recorded_message(entry.message_id)
        if recorded is None:  # the register was replaced: the journal still knows the folder
            decision = RoutingDecision(
                disposition=entry.disposition, stage=None, case_ref=None, organisation=None,
                commissioned=None, message_id=entry.message_id, already_recorded=True,
                reasons=("recorded by an earlier run, which stopped before moving it",))
        else:
            decision = RoutingDecision.from_record(
                recorded, note="recorded by an earlier run, which stopped before moving it")
        return WatchedMessage(entry.uid, decision, entry.destination, resumed=True)

    def _deliver(self, outbox: Outbox) -> None:
        if self.smtp is None:
            return
        delivery = deliver(outbox, self.smtp, environ=self.environ, ssl_context=self.ssl_context)
        self.summary.acknowledgements_sent += delivery.sent
        self.summary.acknowledgements_waiting = delivery.waiting


def _load_bank_holidays(config: MailConfig) -> None:
    """Load this year's bank holidays, as the overdue line will."""
    profile = config.compact_profile
    with contextlib.suppress(Exception):  # only a head start: the overdue line loads them anyway
        bank_holidays(profile.jurisdiction, CaseDeadlines.for_profile(profile).today().year)


def _read_ahead(parsed: ParsedMessage, config: MailConfig) -> ParsedMessage:
    """`read_ahead`, except for mail whose words routing never reads: automatic mail, and mail
    whose sender is in doubt, are decided before that (`mailflows.facts.read_message`)."""
    if parsed.sender_doubt or automatic_reasons(parsed):
        return parsed
    return read_ahead(parsed, config)


def _log_message(watched: WatchedMessage) -> None:
    decision = watched.decision
    how = " (resumed)" if watched.resumed else " (already recorded)" if decision.already_recorded else ""
    reasons = "; ".join((*decision.reasons, *watched.notes))
    log.info("UID %d %s%s case %s -> %s %s: %s", watched.uid, decision.disposition, how,
             decision.case_ref or "none", watched.folder, decision.message_id, reasons)


def watch_mailbox(config: MailConfig, *, once: bool = False,
                  on_message: Callable[[WatchedMessage], None] | None = None,
                  stop: threading.Event | None = None,
                  environ: Mapping[str, str] | None = None,
                  ssl_context: ssl.SSLContext | None = None) -> WatchSummary:
    """Route the configured inbox: the backlog, then (unless ``once``) new mail until ``stop``."""
    if config.mail.imap is None:
        raise MailError(f"{config.source}: no [mail.imap] table: `mail watch` needs a mailbox")
    watcher = MailboxWatcher(config, environ=environ, ssl_context=ssl_context,
                             on_message=on_message, stop=stop)
    return watcher.run(once=once)


@contextmanager
def log_to(stream: TextIO) -> Iterator[None]:
    """While inside, the watcher's log (a line per message, reconnects, acknowledgements) goes to
    ``stream`` with the time in front."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)


@contextmanager
def stop_on_signals(stop: threading.Event,
                    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT)
                    ) -> Iterator[threading.Event]:
    """While inside, SIGTERM and Ctrl-C set ``stop`` (the current batch finishes) instead of killing.

    A second signal while stopping ends the process at once, as a person pressing Ctrl-C twice
    expects. Call from the main thread.
    """
    def handler(number: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("%s received: finishing the current batch, then stopping",
                 signal.Signals(number).name)
        stop.set()

    previous = {number: signal.signal(number, handler) for number in signals}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
