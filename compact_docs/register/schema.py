"""The case register's schema: each owner's tables as numbered migrations, applied in order.

The register's own tables (cases, events, messages) are one owner's; another package that keeps
tables in the register (mailflows: the watcher's journal, the outbox) declares its own
``Migrations`` and applies them itself. The ``schema_migrations`` table records what each owner
has applied. A register made before it kept one sequence for everyone in ``PRAGMA user_version``;
a migration's ``legacy`` number is its place in that sequence, and the ledger keeps that
version as it was when the ledger was made (owner ``LEGACY``), so each owner's steps from
before are known without running them again. Each step is a ``.sql`` file in the ``migrations``
folder of its owner's package (``compact_docs/register/migrations``, ``mailflows/migrations``),
shipped as package data.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from compact_docs.errors import RegisterError

_FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
"""A migration file's name: its step number in four digits, then what it does (0001_cases.sql)."""

_HEADER_FIELD = re.compile(r"--\s*(description|legacy):\s*(.*?)\s*")
"""A line of a migration file's opening comment that gives its description or legacy number."""

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

    @classmethod
    def from_package(cls, owner: str, package: str, *, latest: int) -> Migrations:
        """An owner's steps from the ``migrations`` folder of a package, one ``.sql`` file a step.

        A file is named for its number (``0001_cases.sql``) and opens with comment lines giving
        its ``description`` and, for a step from before owners, its ``legacy`` number; the rest is
        the step's SQL as it shipped, indentation included (SQLite keeps each CREATE's text, so a
        new register's schema reads the same as an old one's). ``latest`` is the version the
        owner's code reads and writes: the files must be steps 1 to ``latest``, one each, or
        RegisterError says which is missing or misnumbered.
        """
        where = f"{package.replace('.', '/')}/migrations"
        files = _step_files(owner, resources.files(package).joinpath("migrations"), where, latest)
        return cls(owner, tuple(_read_step(number, file, where) for number, file in enumerate(files, start=1)))

    @property
    def latest(self) -> int:
        """The version these tables are at once every step is applied."""
        return len(self.steps)


def _step_files(owner: str, folder: Traversable, where: str, latest: int) -> list[Traversable]:
    """The files of steps 1 to ``latest`` in order; RegisterError for one missing, misnamed,
    misnumbered or doubled."""
    if not folder.is_dir():
        raise RegisterError(f"the {owner} migrations are missing: no folder {where}")
    files: dict[int, list[Traversable]] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        named = _FILE_NAME.fullmatch(entry.name)
        if named is None:
            raise RegisterError(f"{where}/{entry.name}: a migration file is named for its step number and "
                                "what it does, such as 0001_cases.sql")
        files.setdefault(int(named.group(1)), []).append(entry)
    for number, found in sorted(files.items()):
        if len(found) > 1:
            names = " and ".join(sorted(entry.name for entry in found))
            raise RegisterError(f"{where}: {names} are both step {number} of the {owner} migrations")
        if not 1 <= number <= latest:
            raise RegisterError(f"{where}/{found[0].name}: step {number} of the {owner} migrations, but the "
                                f"code reads and writes steps 1 to {latest}")
    missing = [number for number in range(1, latest + 1) if number not in files]
    if missing:
        raise RegisterError(f"{where}: no file for step {', '.join(map(str, missing))} of the {owner} migrations "
                            f"({missing[0]:04d}_*.sql); the code reads and writes steps 1 to {latest}")
    return [files[number][0] for number in range(1, latest + 1)]


def _read_step(number: int, file: Traversable, where: str) -> Migration:
    """One step from its file: the opening comment's fields, then the SQL."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError(f"cannot read the migration {where}/{file.name}: {exc}") from exc
    lines = text.splitlines(keepends=True)
    header = list(itertools.takewhile(lambda line: line.startswith("--"), lines))
    fields = {found[1]: found[2] for line in header if (found := _HEADER_FIELD.fullmatch(line))}
    if not fields.get("description"):
        raise RegisterError(f"{where}/{file.name}: no '-- description: ...' line in its opening comment")
    try:
        legacy = int(fields["legacy"]) if "legacy" in fields else None
    except ValueError:
        raise RegisterError(f"{where}/{file.name}: its legacy number is not a number: {fields['legacy']!r}") from None
    return Migration(number, fields["description"], "".join(lines[len(header):]), legacy)


REGISTER_TABLES = Migrations.from_package("register", "compact_docs.register", latest=2)
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


def statements(sql: str) -> list[str]:
    """A step's SQL as statements, each ended where SQLite sees it end: not at a ';' inside a
    comment, a string or a trigger's body. (Not ``executescript``: it would commit the caller's
    transaction.)"""
    found: list[str] = []
    start = 0
    for end in (index + 1 for index, char in enumerate(sql) if char == ";"):
        if sqlite3.complete_statement(sql[start:end]):
            found.append(sql[start:end])
            start = end
    rest = sql[start:]
    return [statement for statement in (*found, rest) if statement.strip()]


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
            for statement in statements(step.sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (owner, number, description, applied) "
                         "VALUES (?, ?, ?, ?)", (migrations.owner, step.number, step.description, now))
        if own_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if own_transaction:
            conn.execute("ROLLBACK")
        raise
