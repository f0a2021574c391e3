-- description: where each message is filed, and each folder's state when last read
-- legacy: 4
--
-- Shipped as a Python string before it was a file: the statements keep that text, indentation
-- and all, because SQLite keeps it in sqlite_master and new registers must read as old ones do.

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
