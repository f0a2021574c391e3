"""Corrections by moving mail: a person's move into a stage folder, noticed by the watcher, recorded once.

The register keeps where each routed message was filed (its placement): the router notes the
folder before it moves a message there, so its own moves are never mistaken for a person's.
Each pass, the watcher asks the server for the state of each stage folder (STATUS: UIDNEXT, and
HIGHESTMODSEQ where the server has CONDSTORE, RFC 7162) and reads only folders that changed, and
in them only the messages that arrived since the last look (UIDs from the UIDNEXT it saw then).
A known message found in a stage folder other than its placement was moved there by a person:
the move is recorded as a correction, "moved in the mailbox", and the placement, the folder's
state and the correction are written in one transaction, so each move counts exactly once,
also across restarts and crashes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from compact_docs.errors import CompactError, Disconnected
from compact_docs.register.cases import CaseRegister
from compact_docs.register.casework import MovedMessage, correct_by_move
from compact_docs.register.records import RecordedMessage
from mailflows.config import MailConfig
from mailflows.parsing import ParsedMessage, header_message_id, parse_message
from mailflows.route import classify, record
from mailflows.servers.imap import ImapConnection
from mailflows.servers.imap_responses import FolderState, FolderStatus

log = logging.getLogger("mailflows.watch")


@dataclass(frozen=True)
class Placement:
    """The folder the register last knew a message to be filed in, and who put it there."""

    message_id: str
    folder: str
    placed_by: str


class MailboxPlacements:
    """The register's table of where each routed message is filed (migration 4)."""

    def __init__(self, register: CaseRegister) -> None:
        self.register = register

    def get(self, message_id: str) -> Placement | None:
        """Where a message was last filed, or None."""
        row = self.register.execute("SELECT * FROM mailbox_placements WHERE message_id = ?",
                                    (message_id,)).fetchone()
        return Placement(row["message_id"], row["folder"], row["placed_by"]) if row else None

    def place(self, message_id: str, folder: str, placed_by: str = "router") -> None:
        """Note the folder a message is (about to be) filed in."""
        self.register.execute(
            "INSERT INTO mailbox_placements (message_id, folder, placed, placed_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (message_id) DO UPDATE SET folder = excluded.folder, placed = excluded.placed, "
            "placed_by = excluded.placed_by", (message_id, folder, self.register.now(), placed_by))

    def state(self, folder: str) -> FolderStatus | None:
        """The folder's state when it was last read."""
        row = self.register.execute("SELECT * FROM mailbox_folder_state WHERE folder = ?", (folder,)).fetchone()
        if row is None:
            return None
        return FolderStatus(folder, int(row["uidvalidity"]), int(row["uidnext"]), 0,
                            None if row["highestmodseq"] is None else int(row["highestmodseq"]))

    def save_state(self, status: FolderStatus, uidnext: int) -> None:
        """Note that a folder was read up to ``uidnext`` in this state."""
        self.register.execute(
            "INSERT INTO mailbox_folder_state (folder, uidvalidity, uidnext, highestmodseq, checked) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
            "uidnext = excluded.uidnext, highestmodseq = excluded.highestmodseq, checked = excluded.checked",
            (status.name, status.uidvalidity, uidnext, status.highestmodseq, self.register.now()))


def stage_folders(config: MailConfig) -> dict[str, int]:
    """Each stage folder of the configuration and its stage number."""
    folders = config.mail.folders
    return {folders.for_disposition(f"stage-{s.number}"): s.number
            for s in config.compact_profile.dispute.stages}


def _unchanged(before: FolderStatus | None, now: FolderStatus) -> bool:
    if before is None or before.uidvalidity != now.uidvalidity:
        return False
    if before.highestmodseq is not None and now.highestmodseq is not None:
        return before.highestmodseq == now.highestmodseq
    return before.uidnext == now.uidnext


class MailboxCorrections:
    """Finds the messages a person moved into the stage folders, and records each as a correction."""

    def __init__(self, register: CaseRegister, config: MailConfig, connection: ImapConnection) -> None:
        self.register = register
        self.config = config
        self.connection = connection
        self.placements = MailboxPlacements(register)
        self._stages = stage_folders(config)
        self._disposition_folder = {d: config.mail.folders.for_disposition(d)
                                    for d in ("stage-1", "stage-2", "stage-3", "needs-triage", "ignored")}

    def check(self, inbox: FolderState) -> list[MovedMessage]:
        """Look at every stage folder that changed, record the moves found, then select ``inbox`` again.

        Raises Disconnected when the connection is lost, or when the inbox's UIDVALIDITY changed
        meanwhile (its UIDs must be read again).
        """
        found: list[MovedMessage] = []
        for folder, stage in self._stages.items():
            try:
                found += self._check_folder(folder, stage)
            except Disconnected:
                raise
            except CompactError as exc:  # a folder deleted by hand, an odd server: the others still count
                log.warning("moves into %s not checked: %s", folder, exc)
        again = self.connection.select_folder(inbox.name)
        if again.uidvalidity != inbox.uidvalidity:
            self.connection.close()
            raise Disconnected(f"{inbox.name} has a new UIDVALIDITY ({again.uidvalidity}, was "
                               f"{inbox.uidvalidity}); its UIDs must be read again")
        for moved in found:
            log.info("correction: %s", moved.line())
        return found

    def _check_folder(self, folder: str, stage: int) -> list[MovedMessage]:
        status = self.connection.status(folder)
        before = self.placements.state(folder)
        if _unchanged(before, status):
            return []
        # The first look at a folder (or at a folder made again) has nothing to compare with: mail
        # that was there already is not taken for new moves unless the register knows it.
        first_look = before is None or before.uidvalidity != status.uidvalidity
        start = 1 if first_look or before is None else before.uidnext
        if self.connection.examine_folder(folder).uidvalidity != status.uidvalidity:
            return []  # made again between STATUS and EXAMINE: read it next pass
        uids = self.connection.search_from(start)
        headers = self.connection.fetch_headers(uids)
        found: list[MovedMessage] = []
        with self.register.transaction():
            for uid in uids:
                if uid in headers:
                    moved = self._one(folder, stage, uid, headers[uid], first_look)
                    found += [moved] if moved is not None else []
            self.placements.save_state(status, max([status.uidnext, *(u + 1 for u in uids)]))
        return found

    def _parsed(self, uid: int, header: bytes) -> ParsedMessage | None:
        """The message as the router identifies it: from its header, or whole when it has no Message-ID."""
        parsed = parse_message(header + b"\r\n", self.config.max_text_chars)
        if not parsed.message_id_generated:
            return parsed
        whole = list(self.connection.fetch_messages([uid], size_cap=self.config.mail.watch.size_cap_bytes))
        return parse_message(whole[0].raw, self.config.max_text_chars) if whole else None

    def _route_here(self, folder: str, uid: int) -> RecordedMessage | None:
        """A message a person filed before the router saw it: routed now, so nothing is lost."""
        fetched = list(self.connection.fetch_messages([uid], size_cap=self.config.mail.watch.size_cap_bytes))
        if not fetched:
            return None
        parsed = parse_message(fetched[0].raw, self.config.max_text_chars)
        decision = classify(parsed, self.config, self.register)
        if not decision.already_recorded:
            source = f"imap://{folder};UID={uid}"
            decision = record(decision, parsed, self.register, source, arrived=fetched[0].internaldate)
            log.info("%s UID %d (%s) was filed by a person before it was routed: routed now (%s)",
                     folder, uid, decision.message_id, decision.disposition)
            self.placements.place(decision.message_id, self._disposition_folder[decision.disposition])
        return self.register.recorded_message(decision.message_id)

    def _one(self, folder: str, stage: int, uid: int, header: bytes, first_look: bool) -> MovedMessage | None:
        # Most of what a changed folder holds is where the router put it: its Message-ID, read
        # without parsing the header, says so; only a move or a stranger is parsed in full.
        message_id = header_message_id(header)
        placement = self.placements.get(message_id) if message_id is not None else None
        if placement is not None and placement.folder == folder:
            return None
        parsed = self._parsed(uid, header)
        if parsed is None:
            return None
        recorded = self.register.recorded_message(parsed.message_id)
        if recorded is None and first_look:
            log.info("%s UID %d (%s) was there before the watcher first looked: left alone", folder, uid,
                     parsed.message_id)
            return None
        if recorded is None:
            recorded = self._route_here(folder, uid)
            if recorded is None:
                return None
        placement = self.placements.get(recorded.message_id)
        expected = placement.folder if placement else self._disposition_folder.get(recorded.disposition)
        if expected == folder:
            if placement is None:
                self.placements.place(recorded.message_id, folder)
            return None
        self.register.execute("SAVEPOINT correct_one")
        try:
            moved: MovedMessage | None = correct_by_move(
                self.register, recorded, stage, from_folder=expected, to_folder=folder,
                thread_ids=parsed.thread_ids)
        except CompactError as exc:  # one odd message must not stop the others
            self.register.execute("ROLLBACK TO correct_one")
            log.warning("%s UID %d (%s) was moved from %s but could not be recorded as a correction: %s",
                        folder, uid, recorded.message_id, expected, exc)
            moved = None
        self.register.execute("RELEASE correct_one")
        self.placements.place(recorded.message_id, folder, "person")
        return moved
