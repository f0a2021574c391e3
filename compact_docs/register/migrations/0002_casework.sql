-- description: case owners, dates from the mail, corrections, merges
-- legacy: 4
--
-- Shipped as a Python string before it was a file: the statements keep that text, indentation
-- and all, because SQLite keeps it in sqlite_master and new registers must read as old ones do.
--
-- The events table is made again for its wider CHECK; nothing refers to it.

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
