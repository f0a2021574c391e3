"""The case register's schema: each owner's tables as numbered migrations, applied in order.

The register's own tables (cases, events, messages) are one owner's; another package that keeps
tables in the register (mailflows: the watcher's journal, the outbox) declares its own
``Migrations`` and applies them itself. The ``schema_migrations`` table records what each owner
has applied. A register made before it kept one sequence for everyone in ``PRAGMA user_version``;
a migration's ``legacy`` number is its place in that sequence, and the ledger keeps that
version as it was when the ledger was made (owner ``LEGACY``), so each owner's steps from
before are known without running them again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from compact_docs.errors import RegisterError

LEGACY = "(one sequence)"
"""The ledger's owner for the single sequence's version when the ledger was made."""

LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        owner TEXT NOT NULL,
        number INTEGER NOT NULL,
        description TEXT NOT NULL,
        applied TEXT NOT NULL,
        PRIMARY KEY (owner, number)
    )
"""


@dataclass(frozen=True)
class Migration:
    """One step of an owner's schema: never edited once shipped; a later change is a new step."""

    number: int
    description: str
    sql: str
    legacy: int | None = None
    """Its number in the single sequence (PRAGMA user_version) of registers made before owners."""


@dataclass(frozen=True)
class Migrations:
    """One owner's tables in the case register: migrations numbered 1, 2, 3 ... in order."""

    owner: str
    steps: tuple[Migration, ...]

    def __post_init__(self) -> None:
        numbers = [step.number for step in self.steps]
        if numbers != list(range(1, len(numbers) + 1)):
            raise RegisterError(f"the {self.owner} migrations must be numbered 1, 2, 3 ... in order, "
                                f"not {numbers}")

    @property
    def latest(self) -> int:
        """The version these tables are at once every step is applied."""
        return len(self.steps)


REGISTER_TABLES = Migrations("register", (
    Migration(1, "cases, events, case messages and routed messages", """
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
    """, legacy=1),
    # The events table is made again for its wider CHECK; nothing refers to it.
    Migration(2, "case owners, dates from the mail, corrections, merges", """
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
    """, legacy=4),
))
"""The register's own tables."""

SCHEMA_VERSION = REGISTER_TABLES.latest
"""The version of the register's own tables this compact-docs reads and writes."""


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _has_ledger(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    return found.fetchone() is not None


def applied_version(conn: sqlite3.Connection, migrations: Migrations) -> int:
    """How far an owner's tables are: from the ledger, or, for steps from before the ledger, from
    the single sequence's version at the time."""
    if _has_ledger(conn):
        rows = conn.execute("SELECT owner, MAX(number) FROM schema_migrations WHERE owner IN (?, ?) "
                            "GROUP BY owner", (migrations.owner, LEGACY)).fetchall()
        versions = {owner: int(number) for owner, number in rows}
        if migrations.owner in versions:
            return versions[migrations.owner]
        legacy = versions.get(LEGACY, 0)
    else:
        legacy = _user_version(conn)
    return max((step.number for step in migrations.steps
                if step.legacy is not None and step.legacy <= legacy), default=0)


def migrate(conn: sqlite3.Connection, migrations: Migrations, now: str) -> None:
    """Apply an owner's steps not applied yet, together (inside the caller's transaction, if any)."""
    if applied_version(conn, migrations) >= migrations.latest:
        return
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if not _has_ledger(conn):  # another process may have made it while we waited
            legacy = _user_version(conn)
            conn.execute(LEDGER)
            conn.execute("INSERT INTO schema_migrations (owner, number, description, applied) VALUES "
                         "(?, ?, ?, ?)", (LEGACY, legacy, "PRAGMA user_version before this ledger", now))
        version = applied_version(conn, migrations)
        for step in migrations.steps[version:]:
            for statement in step.sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (owner, number, description, applied) "
                         "VALUES (?, ?, ?, ?)", (migrations.owner, step.number, step.description, now))
        if own_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if own_transaction:
            conn.execute("ROLLBACK")
        raise
