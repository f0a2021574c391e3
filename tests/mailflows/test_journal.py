"""The watcher's journal: entries by (folder, UIDVALIDITY, UID), reconciled and retired."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from testdata import MAIL

from compact_docs.register.cases import CaseRegister
from compact_docs.register.schema import LEGACY, REGISTER_TABLES
from mailflows.config import require_config
from mailflows.journal import MailboxJournal, Routed
from mailflows.route import open_register
from mailflows.servers.imap_responses import CopiedMessages
from mailflows.tables import MAILBOX_TABLES


def test_entries_reconcile_and_retire(tmp_path: Path) -> None:
    config = require_config(MAIL / "compact.toml")
    with CaseRegister(tmp_path / "cases.db", config.compact_profile) as register:
        journal = MailboxJournal(register)  # the journal brings its own tables
        assert register.version_of(MAILBOX_TABLES) == MAILBOX_TABLES.latest
        with register.transaction():
            for uid in (3, 4, 5):
                journal.record("INBOX", 77, uid, message_id=f"<m{uid}@x>", disposition="stage-1",
                               destination="Disputes/Stage 1")
            # Recording again keeps the first entry: a retried batch never rewrites it.
            journal.record("INBOX", 77, 3, message_id="<other@x>", disposition="ignored",
                           destination="Disputes/Ignored")
        found = journal.entries("INBOX", 77, [3, 4, 9])
        assert sorted(found) == [3, 4] and found[3].message_id == "<m3@x>"
        assert journal.entries("INBOX", 78, [3, 4]) == {}  # another UIDVALIDITY: other messages

        journal.mark_moved("INBOX", 77, [3])
        # UID 4 is gone from the folder (moved before the process died): noted as moved.
        assert journal.reconcile("INBOX", 77, present=[5]) == [4]
        assert [e.uid for e in journal.pending("INBOX", 77)] == [5]

        assert journal.retire_other_uidvalidities("INBOX", 90) == 1
        assert journal.pending("INBOX", 77) == []
        assert (journal.count("moved"), journal.count("stale"), journal.count()) == (2, 1, 3)


def test_many_entries_at_once_are_recorded_as_one_by_one(tmp_path: Path) -> None:
    config = require_config(MAIL / "compact.toml")
    with CaseRegister(tmp_path / "cases.db", config.compact_profile) as register:
        journal = MailboxJournal(register)
        with register.transaction():
            journal.record_many("INBOX", 77, [
                Routed(3, "<m3@x>", "stage-1", "Disputes/Stage 1", "2026-11-24T09:00:00+00:00"),
                Routed(4, "<m4@x>", "ignored", "Disputes/Ignored", "2026-11-24T09:00:01+00:00"),
                Routed(3, "<other@x>", "ignored", "Disputes/Ignored", "2026-11-24T09:00:02+00:00")])
        found = journal.entries("INBOX", 77, [3, 4])
        assert (found[3].message_id, found[3].destination, found[4].disposition) == \
            ("<m3@x>", "Disputes/Stage 1", "ignored")  # the first entry of a UID is kept
        recorded = register.execute("SELECT recorded FROM mailbox_journal ORDER BY uid").fetchall()
        assert [r[0] for r in recorded] == ["2026-11-24T09:00:00+00:00", "2026-11-24T09:00:01+00:00"]
        journal.mark_moved("INBOX", 77, iter([3, 4, 9]))
        assert journal.count("moved") == 2 and journal.pending("INBOX", 77) == []


def test_copied_entries_are_unfinished_until_moved(tmp_path: Path) -> None:
    config = require_config(MAIL / "compact.toml")
    with CaseRegister(tmp_path / "cases.db", config.compact_profile) as register:
        journal = MailboxJournal(register)
        with register.transaction():
            for uid in (3, 4, 5):
                journal.record("INBOX", 77, uid, message_id=f"<m{uid}@x>", disposition="stage-1",
                               destination="Disputes/Stage 1")
        journal.mark_copied("INBOX", 77, CopiedMessages("Disputes/Stage 1", (3, 4), 900, {3: 11}))
        found = journal.entries("INBOX", 77, [3, 4, 5])
        assert [(found[u].state, found[u].copy_uidvalidity, found[u].copy_uid) for u in (3, 4, 5)] == [
            ("copied", 900, 11), ("copied", 900, None), ("recorded", None, None)]
        # Copied is not moved: still pending, reconciled when gone, retired with its UIDVALIDITY.
        assert [e.uid for e in journal.pending("INBOX", 77)] == [3, 4, 5]
        assert journal.reconcile("INBOX", 77, present=[4, 5]) == [3]
        journal.mark_moved("INBOX", 77, [4])
        assert journal.retire_other_uidvalidities("INBOX", 78) == 1
        assert (journal.count("moved"), journal.count("stale"), journal.count("copied")) == (2, 1, 0)


def test_a_register_of_schema_2_keeps_its_journal_when_upgraded(tmp_path: Path) -> None:
    """A register from before each package owned its tables: one sequence, at 2 (the journal)."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for step in (REGISTER_TABLES.steps[0], MAILBOX_TABLES.steps[0]):
            conn.executescript(step.sql)
        conn.execute("INSERT INTO mailbox_journal (folder, uidvalidity, uid, message_id, disposition, "
                     "destination, state, recorded) VALUES ('INBOX', 5, 9, '<old@x>', 'stage-2', "
                     "'Disputes/Stage 2', 'recorded', '2026-11-20T09:00:00+00:00')")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    config = require_config(MAIL / "compact.toml")
    with open_register(config.model_copy(update={"database": path})) as register:
        assert (register.schema_version, register.version_of(MAILBOX_TABLES)) == (
            REGISTER_TABLES.latest, MAILBOX_TABLES.latest)
        applied = register.execute("SELECT owner, number FROM schema_migrations ORDER BY owner, number").fetchall()
        # The steps from before the ledger are not run again: only the later ones are recorded.
        assert [tuple(row) for row in applied] == [
            (LEGACY, 2), ("mailflows", 2), ("mailflows", 3), ("register", 2)]
        journal = MailboxJournal(register)
        [entry] = journal.pending("INBOX", 5)
        assert (entry.uid, entry.message_id, entry.state, entry.copy_uid) == (9, "<old@x>", "recorded", None)
        journal.mark_copied("INBOX", 5, CopiedMessages("Disputes/Stage 2", (9,), 40, {9: 2}))
        assert journal.count("copied") == 1
        columns = {row["name"] for row in register.execute("PRAGMA table_info(outbox)")}
        assert {"refused", "given_up"} <= columns
