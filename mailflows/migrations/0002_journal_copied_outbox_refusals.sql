-- description: the journal's 'copied' state (servers without MOVE); outbox refusals and give-ups
-- legacy: 3
--
-- Shipped as a Python string before it was a file: the statements keep that text, indentation
-- and all, because SQLite keeps it in sqlite_master and new registers must read as old ones do.
--
-- SQLite cannot change a CHECK constraint in place: the journal table is made again.

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
