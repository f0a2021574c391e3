"""The watcher's journal: entries by (folder, UIDVALIDITY, UID), reconciled and retired."""

from __future__ import annotations

from pathlib import Path

from backlog import MAIL

from compact_docs.register import CaseRegister
from mailflows.config import require_config
from mailflows.journal import MailboxJournal


def test_entries_reconcile_and_retire(tmp_path: Path) -> None:
    config = require_config(MAIL / "compact.toml")
    with CaseRegister(tmp_path / "cases.db", config.compact_profile) as register:
        assert register.schema_version >= 2
        journal = MailboxJournal(register)
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
