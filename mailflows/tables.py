"""The mailbox's own tables in the case register: the watcher's journal and the acknowledgement outbox."""

from __future__ import annotations

from compact_docs.register.schema import Migration, Migrations

MAILBOX_TABLES = Migrations("mailflows", (
    Migration(1, "the IMAP watcher's journal and acknowledgement outbox", """
        CREATE TABLE mailbox_journal (
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            disposition TEXT NOT NULL,
            destination TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'recorded' CHECK (state IN ('recorded', 'moved', 'stale')),
            recorded TEXT NOT NULL,
            moved TEXT,
            PRIMARY KEY (folder, uidvalidity, uid)
        );
        CREATE INDEX mailbox_journal_message ON mailbox_journal(message_id);
        CREATE INDEX mailbox_journal_state ON mailbox_journal(folder, uidvalidity, state);
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL UNIQUE,
            in_reply_to TEXT NOT NULL,
            case_ref TEXT REFERENCES cases(ref),
            recipient TEXT NOT NULL,
            recipients TEXT NOT NULL,
            content BLOB NOT NULL,
            queued TEXT NOT NULL,
            day TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT NOT NULL,
            last_error TEXT,
            sent TEXT
        );
        CREATE INDEX outbox_recipient_day ON outbox(recipient, day);
        CREATE INDEX outbox_unsent ON outbox(sent, next_attempt);
    """, legacy=2),
    # SQLite cannot change a CHECK constraint in place: the journal table is made again.
    Migration(2, "the journal's 'copied' state (servers without MOVE); outbox refusals and give-ups", """
        CREATE TABLE mailbox_journal_3 (
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            disposition TEXT NOT NULL,
            destination TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'recorded'
                CHECK (state IN ('recorded', 'copied', 'moved', 'stale')),
            recorded TEXT NOT NULL,
            moved TEXT,
            copied TEXT,
            copy_uidvalidity INTEGER,
            copy_uid INTEGER,
            PRIMARY KEY (folder, uidvalidity, uid)
        );
        INSERT INTO mailbox_journal_3 (folder, uidvalidity, uid, message_id, disposition,
                                       destination, state, recorded, moved)
            SELECT folder, uidvalidity, uid, message_id, disposition, destination, state,
                   recorded, moved
            FROM mailbox_journal;
        DROP TABLE mailbox_journal;
        ALTER TABLE mailbox_journal_3 RENAME TO mailbox_journal;
        CREATE INDEX mailbox_journal_message ON mailbox_journal(message_id);
        CREATE INDEX mailbox_journal_state ON mailbox_journal(folder, uidvalidity, state);
        ALTER TABLE outbox ADD COLUMN refused TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE outbox ADD COLUMN given_up TEXT;
    """, legacy=3),
    Migration(3, "where each message is filed, and each folder's state when last read", """
        CREATE TABLE mailbox_placements (
            message_id TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            placed TEXT NOT NULL,
            placed_by TEXT NOT NULL DEFAULT 'router'
        );
        INSERT OR IGNORE INTO mailbox_placements (message_id, folder, placed)
            SELECT message_id, destination, recorded FROM mailbox_journal ORDER BY recorded;
        CREATE TABLE mailbox_folder_state (
            folder TEXT PRIMARY KEY,
            uidvalidity INTEGER NOT NULL,
            uidnext INTEGER NOT NULL,
            highestmodseq INTEGER,
            checked TEXT NOT NULL
        );
    """, legacy=4),
))
"""Applied by everything in mailflows that opens the register (``open_register``, the journal, the outbox)."""
