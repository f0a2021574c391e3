"""The case register's schema: numbered SQLite migrations, applied in order, never edited once shipped."""

from __future__ import annotations

from compact_docs.errors import RegisterError

# Each migration moves the schema from the version before it to its own number. Later issues
# append their own (the IMAP watcher's journal) with the next number; never edit a shipped one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "cases, events, case messages and routed messages", """
        CREATE TABLE cases (
            ref TEXT PRIMARY KEY,
            year INTEGER NOT NULL,
            number INTEGER NOT NULL,
            organisation TEXT,
            commissioned INTEGER,
            sender TEXT,
            stage INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            opened TEXT NOT NULL,
            updated TEXT NOT NULL,
            topic TEXT NOT NULL DEFAULT '',
            outcome TEXT,
            UNIQUE (year, number)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL REFERENCES cases(ref),
            at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('opened', 'message', 'escalated', 'closed', 'note')),
            stage INTEGER NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            message_id TEXT
        );
        CREATE INDEX events_ref ON events(ref);
        CREATE TABLE case_messages (
            message_id TEXT PRIMARY KEY,
            ref TEXT NOT NULL REFERENCES cases(ref),
            direction TEXT NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
            added TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            sender TEXT
        );
        CREATE INDEX case_messages_ref ON case_messages(ref);
        CREATE TABLE messages (
            message_id TEXT PRIMARY KEY,
            disposition TEXT NOT NULL,
            stage INTEGER,
            case_ref TEXT REFERENCES cases(ref),
            organisation TEXT,
            commissioned INTEGER,
            reasons TEXT NOT NULL DEFAULT '[]',
            subject TEXT NOT NULL DEFAULT '',
            sender TEXT,
            sender_name TEXT NOT NULL DEFAULT '',
            source TEXT,
            excerpt TEXT NOT NULL DEFAULT '',
            recorded TEXT NOT NULL
        );
    """),
    (2, "the IMAP watcher's journal and acknowledgement outbox", """
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
    """),
    # SQLite cannot change a CHECK constraint in place: the journal table is made again.
    (3, "the journal's 'copied' state (servers without MOVE); outbox refusals and give-ups", """
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
    """),
    # The caseworker's workbench: owners, dates from the mail, corrections, merges. The events
    # table is made again for its wider CHECK; nothing refers to it.
    (4, "case owners, dates from the mail, corrections, merges and where each message is filed", """
        ALTER TABLE cases ADD COLUMN owner TEXT;
        ALTER TABLE cases ADD COLUMN received TEXT;
        ALTER TABLE cases ADD COLUMN stage_since TEXT;
        ALTER TABLE cases ADD COLUMN merged_into TEXT REFERENCES cases(ref);
        UPDATE cases SET received = opened, stage_since = updated;
        ALTER TABLE messages ADD COLUMN received TEXT;
        ALTER TABLE messages ADD COLUMN routed_disposition TEXT;
        UPDATE messages SET received = recorded;
        CREATE TABLE events_4 (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL REFERENCES cases(ref),
            at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('opened', 'message', 'escalated', 'closed', 'note',
                                               'correction', 'merged', 'reopened', 'assigned')),
            stage INTEGER NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            message_id TEXT,
            disposition TEXT,
            previous TEXT,
            via TEXT
        );
        INSERT INTO events_4 (id, ref, at, kind, stage, actor, reason, message_id)
            SELECT id, ref, at, kind, stage, actor, reason, message_id FROM events;
        DROP TABLE events;
        ALTER TABLE events_4 RENAME TO events;
        CREATE INDEX events_ref ON events(ref);
        CREATE INDEX events_kind ON events(kind);
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
    """),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""The schema this module's own tables need; a register at or above it can be read."""


def register_migration(number: int, description: str, sql: str) -> None:
    """Add a later module's migration (such as the watcher's journal) after the ones before it."""
    for known, known_description, known_sql in MIGRATIONS:
        if known == number:
            if (known_description, known_sql) == (description, sql):
                return  # the module was imported twice
            raise RegisterError(f"migration {number} ({description}) clashes with migration {number} "
                                f"({known_description}); number it after {MIGRATIONS[-1][0]}")
    if number != MIGRATIONS[-1][0] + 1:
        raise RegisterError(f"migration {number} ({description}) must follow "
                            f"migration {MIGRATIONS[-1][0]}")
    MIGRATIONS.append((number, description, sql))
