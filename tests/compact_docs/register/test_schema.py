"""The register's schema: migration steps read from their .sql files, shipped unchanged, applied in order."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from testdata import DATA

from compact_docs.errors import RegisterError
from compact_docs.register.cases import CaseRegister
from compact_docs.register.schema import REGISTER_TABLES, Migrations, statements
from compact_docs.rules.profile import load_profile
from mailflows.tables import MAILBOX_TABLES

SHIPPED: dict[str, Any] = json.loads((DATA / "register" / "schema.json").read_text(encoding="utf-8"))
"""A new register's schema and each step's SQL, recorded when the steps were still Python strings."""


def schema_of(path: Path) -> list[list[str | None]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [list(row) for row in rows]


def test_a_new_register_has_the_schema_registers_always_had(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    CaseRegister(path, load_profile("bexley"), tables=(MAILBOX_TABLES,)).close()
    assert schema_of(path) == SHIPPED["sqlite_master"]
    with sqlite3.connect(path) as conn:
        ledger = conn.execute("SELECT owner, number, description FROM schema_migrations "
                              "WHERE owner != '(one sequence)' ORDER BY owner, number").fetchall()
    assert ledger == [(owner, step["number"], step["description"])
                      for owner, steps in sorted(SHIPPED["steps"].items()) for step in steps]


@pytest.mark.parametrize("migrations", [REGISTER_TABLES, MAILBOX_TABLES], ids=lambda m: m.owner)
def test_a_shipped_step_is_never_edited(migrations: Migrations) -> None:
    # A register records which steps it applied, never what they said: an edited step would leave
    # old registers and new ones with different tables. A change to the schema is a new step.
    shipped = SHIPPED["steps"][migrations.owner]
    assert [(step.number, step.description, step.legacy) for step in migrations.steps[:len(shipped)]] == [
        (step["number"], step["description"], step["legacy"]) for step in shipped]
    assert [hashlib.sha256(step.sql.strip().encode()).hexdigest() for step in migrations.steps[:len(shipped)]] == [
        step["sha256"] for step in shipped]


def package_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str],
                 name: str = "owner_tables") -> str:
    """A package on sys.path whose migrations folder holds these files (none: no folder)."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    if files:
        (package / "migrations").mkdir()
    for file_name, text in files.items():
        (package / "migrations" / file_name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_steps_come_from_the_files_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = package_with(tmp_path, monkeypatch, {
        "0002_notes.sql": "-- description: notes; and their authors\n--\n-- A note may say why.\n"
                          "ALTER TABLE journal ADD COLUMN author TEXT; -- who wrote it; if known\n",
        "0001_journal.sql": "-- description: the journal\n-- legacy: 5\n\n"
                            "CREATE TABLE journal (id INTEGER PRIMARY KEY, note TEXT DEFAULT ';');\n",
        "README.txt": "not a step",
    })
    journal = Migrations.from_package("journal", package, latest=2)
    assert [(step.number, step.description, step.legacy) for step in journal.steps] == [
        (1, "the journal", 5), (2, "notes; and their authors", None)]
    assert journal.steps[0].sql == "\nCREATE TABLE journal (id INTEGER PRIMARY KEY, note TEXT DEFAULT ';');\n"
    with CaseRegister(tmp_path / "cases.db", load_profile("bexley"), tables=(journal,)) as register:
        assert register.version_of(journal) == 2
        register.execute("INSERT INTO journal (author) VALUES ('Jo')")
        assert tuple(register.execute("SELECT note, author FROM journal").fetchone()) == (";", "Jo")


@pytest.mark.parametrize(("files", "latest", "message"), [
    ({"0001_a.sql": "-- description: a\n", "0003_c.sql": "-- description: c\n"}, 3,
     r"owner_tables/migrations: no file for step 2 of the journal migrations \(0002_\*\.sql\)"),
    ({"0001_a.sql": "-- description: a\n", "0002_b.sql": "-- description: b\n"}, 3,
     "no file for step 3 of the journal migrations .*steps 1 to 3"),
    ({"0001_a.sql": "-- description: a\n", "0001_b.sql": "-- description: b\n"}, 1,
     "0001_a.sql and 0001_b.sql are both step 1"),
    ({"0001_a.sql": "-- description: a\n", "0002_b.sql": "-- description: b\n"}, 1,
     "0002_b.sql: step 2 of the journal migrations, but the code reads and writes steps 1 to 1"),
    ({"0001_a.sql": "-- description: a\n", "0000_b.sql": "-- description: b\n"}, 1, "0000_b.sql: step 0"),
    ({"1_a.sql": "-- description: a\n"}, 1, "1_a.sql: a migration file is named for its step number"),
    ({"0001_a.sql": "CREATE TABLE a (id);\n"}, 1, r"0001_a\.sql: no '-- description: \.\.\.' line"),
    ({"0001_a.sql": "-- description: a\n-- legacy: four\n"}, 1, "its legacy number is not a number: 'four'"),
    ({}, 1, "the journal migrations are missing: no folder owner_tables/migrations"),
])
def test_a_missing_or_misnumbered_file_is_a_register_error(
        files: dict[str, str], latest: int, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = package_with(tmp_path, monkeypatch, files)
    with pytest.raises(RegisterError, match=message):
        Migrations.from_package("journal", package, latest=latest)


def test_statements_end_where_sqlite_sees_them_end() -> None:
    sql = ("CREATE TABLE t (a TEXT DEFAULT 'x;y');\n-- a note; with a semicolon\n"
           "CREATE TRIGGER t_added AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;\n"
           "INSERT INTO t VALUES ('z')\n")
    assert [statement.strip() for statement in statements(sql)] == [
        "CREATE TABLE t (a TEXT DEFAULT 'x;y');",
        "-- a note; with a semicolon\nCREATE TRIGGER t_added AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;",
        "INSERT INTO t VALUES ('z')",
    ]
    conn = sqlite3.connect(":memory:")
    for statement in statements(sql):
        conn.execute(statement)
    assert conn.execute("SELECT a FROM t").fetchall() == [("z",)]
