-- description: the IMAP watcher's journal and acknowledgement outbox
-- legacy: 2
--
-- Shipped as a Python string before it was a file: the statements keep that text, indentation
-- and all, because SQLite keeps it in sqlite_master and new registers must read as old ones do.

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
