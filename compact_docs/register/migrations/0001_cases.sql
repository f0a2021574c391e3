-- description: cases, events, case messages and routed messages
-- legacy: 1
--
-- Shipped as a Python string before it was a file: the statements keep that text, indentation
-- and all, because SQLite keeps it in sqlite_master and new registers must read as old ones do.

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
