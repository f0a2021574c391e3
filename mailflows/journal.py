"""The watcher's journal: each IMAP message recorded before it is moved, so every step can be redone."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from compact_docs.register.cases import CaseRegister
from mailflows.servers.imap import ImapConnection
from mailflows.servers.imap_copies import find_copies
from mailflows.servers.imap_responses import CopiedMessages, FolderState
from mailflows.tables import MAILBOX_TABLES

log = logging.getLogger("mailflows.watch")
_UNFINISHED = "('recorded', 'copied')"


@dataclass(frozen=True)
class JournalEntry:
    """One message of a watched folder, identified by (folder, UIDVALIDITY, UID), and where it goes.

    ``state`` is 'recorded' (routed and written to the register, not yet moved), 'copied'
    (on a server without MOVE: copied to ``destination``, not yet expunged from the folder;
    ``copy_uid`` is the copy's UID there under ``copy_uidvalidity``, when the server said),
    'moved', or 'stale' (unfinished under a UIDVALIDITY the folder no longer has).
    """

    folder: str
    uidvalidity: int
    uid: int
    message_id: str
    disposition: str
    destination: str
    state: str
    copy_uidvalidity: int | None = None
    copy_uid: int | None = None


class Routed(NamedTuple):
    """A message routed and not yet in the journal: its UID, identity, disposition, folder, and when."""

    uid: int
    message_id: str
    disposition: str
    destination: str
    at: str


class MailboxJournal:
    """The journal table of a case register (mailflows' tables), read and written in its transactions.

    A UID means something only together with its folder's UIDVALIDITY (RFC 3501 section 2.3.1.1),
    so entries of an older UIDVALIDITY never match messages of the new one; those messages are
    recognised again by their Message-ID (or byte hash) in the register instead.
    """

    def __init__(self, register: CaseRegister) -> None:
        register.apply(MAILBOX_TABLES)
        self.register = register

    def entries(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> dict[int, JournalEntry]:
        """The entries of these UIDs that exist, by UID."""
        found: dict[int, JournalEntry] = {}
        for start in range(0, len(uids), 500):  # SQLite's bound-parameter limit, with room
            chunk = list(uids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            rows = self.register.execute(
                f"SELECT * FROM mailbox_journal WHERE folder = ? AND uidvalidity = ? "
                f"AND uid IN ({marks})", (folder, uidvalidity, *chunk)).fetchall()
            for row in rows:
                found[int(row["uid"])] = _entry(row)
        return found

    def pending(self, folder: str, uidvalidity: int) -> list[JournalEntry]:
        """Entries recorded (or copied) but not yet known to be moved, in UID order."""
        rows = self.register.execute(
            f"SELECT * FROM mailbox_journal WHERE folder = ? AND uidvalidity = ? AND state IN "
            f"{_UNFINISHED} ORDER BY uid", (folder, uidvalidity)).fetchall()
        return [_entry(row) for row in rows]

    def record(self, folder: str, uidvalidity: int, uid: int, *, message_id: str,
               disposition: str, destination: str) -> None:
        """Note that a message was routed and where it goes; an entry already there is kept."""
        self.record_many(folder, uidvalidity, [Routed(uid, message_id, disposition, destination,
                                                      self.register.now())])

    def record_many(self, folder: str, uidvalidity: int, routed: Iterable[Routed]) -> None:
        """`record` for many messages at once, each with the time it was routed."""
        self.register.executemany(
            "INSERT OR IGNORE INTO mailbox_journal (folder, uidvalidity, uid, message_id, "
            "disposition, destination, state, recorded) VALUES (?, ?, ?, ?, ?, ?, 'recorded', ?)",
            [(folder, uidvalidity, r.uid, r.message_id, r.disposition, r.destination, r.at) for r in routed])

    def mark_copied(self, folder: str, uidvalidity: int, copied: CopiedMessages) -> None:
        """Note that messages have a copy in ``copied.folder`` and only their expunge is left."""
        at = self.register.now()
        with self.register.transaction():
            self.register.executemany(
                "UPDATE mailbox_journal SET state = 'copied', copied = ?, destination = ?, "
                "copy_uidvalidity = ?, copy_uid = ? WHERE folder = ? AND uidvalidity = ? AND "
                "uid = ? AND state = 'recorded'",
                [(at, copied.folder, copied.uidvalidity, copied.uids.get(uid), folder, uidvalidity, uid)
                 for uid in copied.source])

    def mark_moved(self, folder: str, uidvalidity: int, uids: Iterable[int]) -> None:
        """Note that messages left the folder (moved by us, or found gone)."""
        at = self.register.now()
        with self.register.transaction():
            self.register.executemany(
                f"UPDATE mailbox_journal SET state = 'moved', moved = ? WHERE folder = ? AND "
                f"uidvalidity = ? AND uid = ? AND state IN {_UNFINISHED}",
                [(at, folder, uidvalidity, uid) for uid in uids])

    def move(self, connection: ImapConnection, inbox: FolderState, folder: str, uids: Sequence[int],
             earlier: Mapping[int, JournalEntry]) -> None:
        """Move recorded messages of the selected ``inbox`` to ``folder``, noting each step.

        With MOVE, one UID MOVE. Without it, the copy is noted ('copied') before the originals
        are expunged, so whatever instant the process stops, the next run copies nothing twice:
        an ``earlier`` entry found 'copied' is only expunged, and an ``earlier`` entry still
        'recorded' (the run may have stopped during its COPY) is first looked for in
        ``folder`` and only expunged when its copy is there.
        """
        name, uidvalidity = inbox.name, inbox.uidvalidity
        copied = [uid for uid in uids if uid in earlier and earlier[uid].state == "copied"]
        already = set(copied)
        rest = [uid for uid in uids if uid not in already]
        if rest and not connection.has_capability("MOVE"):
            resumed = [uid for uid in rest if uid in earlier]
            found = find_copies(connection, resumed, folder) if resumed else None
            if found is not None and found.uids:
                log.info("%d message(s) were copied to %s by an earlier run that stopped before "
                         "removing them: not copied again", len(found.uids), folder)
                self.mark_copied(name, uidvalidity, found)
                copied += found.uids
                rest = [uid for uid in rest if uid not in found.uids]
        connection.expunge(copied)
        connection.move(rest, folder,
                        on_copied=lambda done: self.mark_copied(name, uidvalidity, done))
        self.mark_moved(name, uidvalidity, uids)

    def reconcile(self, folder: str, uidvalidity: int, present: Iterable[int]) -> list[int]:
        """Mark moved the recorded entries whose UIDs are no longer in the folder; return those UIDs.

        That happens when the process stopped after a move and before noting it.
        """
        still_there = set(present)
        gone = [e.uid for e in self.pending(folder, uidvalidity) if e.uid not in still_there]
        if gone:
            self.mark_moved(folder, uidvalidity, gone)
        return gone

    def retire_other_uidvalidities(self, folder: str, uidvalidity: int) -> int:
        """Mark stale the unfinished entries of a folder's earlier UIDVALIDITY; return how many.

        Their UIDs name nothing now: the messages, if still there, have new UIDs and are
        recognised by their Message-ID when routed again.
        """
        with self.register.transaction():
            cursor = self.register.execute(
                f"UPDATE mailbox_journal SET state = 'stale' WHERE folder = ? AND uidvalidity != ? "
                f"AND state IN {_UNFINISHED}", (folder, uidvalidity))
        return int(cursor.rowcount)

    def count(self, state: str | None = None) -> int:
        """How many entries the journal holds (in one state, or all)."""
        sql, params = "SELECT COUNT(*) FROM mailbox_journal", tuple[str, ...]()
        if state is not None:
            sql, params = sql + " WHERE state = ?", (state,)
        return int(self.register.execute(sql, params).fetchone()[0])


def _entry(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(folder=row["folder"], uidvalidity=int(row["uidvalidity"]), uid=int(row["uid"]),
                        message_id=row["message_id"], disposition=row["disposition"],
                        destination=row["destination"], state=row["state"],
                        copy_uidvalidity=row["copy_uidvalidity"], copy_uid=row["copy_uid"])
