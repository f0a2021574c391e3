"""The case register: dispute cases, their events and Message-IDs, and every routed message, in SQLite."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compact_docs.errors import RegisterError
from compact_docs.register.records import Case, CaseEvent, RecordedMessage, caseworker
from compact_docs.register.schema import REGISTER_TABLES, Migrations, applied_version, migrate
from compact_docs.rules.profile import Profile

BUSY_TIMEOUT_SECONDS = 30.0
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection (SQLITE_BUSY, SQLITE_LOCKED)."""
    return (int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF) in _BUSY_CODES


PRIVATE_MODE = 0o600
"""The file mode a new register is created with: it holds excerpts of people's email."""

GROUP_MODE = 0o660
"""The file mode with `database_mode = "group"`: caseworkers in the folder's group share it."""


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


class CaseRegister:
    """The SQLite case register at one path, for the dispute stages of one profile.

    Writes happen in `transaction()` blocks (BEGIN IMMEDIATE, so two processes take turns rather
    than both deciding from the same state); a write method called outside one runs in its own.
    """

    def __init__(self, path: str | Path, profile: Profile, *, readonly: bool = False,
                 clock: Callable[[], datetime] = _now, tables: Iterable[Migrations] = (),
                 file_mode: int = PRIVATE_MODE) -> None:
        self.path = Path(path)
        self.profile = profile
        self.readonly = readonly
        self.file_mode = file_mode
        self._clock = clock
        self._in_memory = readonly and not self.path.exists()
        self._applied: set[str] = set()
        self._conn = self._connect()
        try:
            self._prepare()
            for migrations in (REGISTER_TABLES, *tables):
                self.apply(migrations)
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        try:
            if self._in_memory:
                # Nothing recorded yet: an empty register in memory, so reading never creates a file.
                conn = sqlite3.connect(":memory:", isolation_level=None)
            elif self.readonly:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                       timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            else:
                if not self.path.parent.is_dir():
                    raise RegisterError(f"cannot create the case register {self.path}: "
                                        f"no folder {self.path.parent}")
                self._create_file()
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot open the case register {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _create_file(self) -> None:
        """Create a new register's file with `file_mode` whatever the umask (SQLite would make it
        0644 less the umask, readable by all); its -wal and -shm files take the same mode."""
        if os.path.lexists(self.path):
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         self.file_mode)
        except FileExistsError:
            return  # another process is creating it at this moment
        except OSError as exc:
            raise RegisterError(f"cannot create the case register {self.path}: {exc.strerror or exc}") from exc
        try:
            os.fchmod(fd, self.file_mode)
        finally:
            os.close(fd)

    def _prepare(self) -> None:
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if not self.readonly:
                self._use_wal()
        except sqlite3.DatabaseError as exc:
            raise RegisterError(f"{self.path} is not a usable case register: {exc}") from exc

    def _use_wal(self) -> None:
        """Switch to write-ahead logging, waiting while another process holds the file.

        Changing the journal mode needs the file to itself, and SQLite reports "database is
        locked" at once (without its busy timeout) when another connection is writing, as a
        second `mail route` creating the same new register is: so wait here instead.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            _pause(0.02)

    def apply(self, migrations: Migrations) -> None:
        """Bring one owner's tables up to date; a read-only register must already be (RegisterError).

        The register applies its own tables when opened; a package that keeps tables in it
        applies its own before using them (once per open register).
        """
        if migrations.owner in self._applied:
            return
        try:
            if self.readonly and not self._in_memory:
                version = applied_version(self._conn, migrations)
                if version < migrations.latest:
                    tables = "" if migrations is REGISTER_TABLES else f" of its {migrations.owner} tables"
                    raise RegisterError(
                        f"the case register {self.path} has schema version {version}{tables}, older "
                        f"than this compact-docs ({migrations.latest}); run a command that writes it, "
                        "such as `compact-docs mail route`, to upgrade it"
                    )
            else:
                migrate(self._conn, migrations, self.now())
        except sqlite3.DatabaseError as exc:
            raise RegisterError(f"{self.path} is not a usable case register: {exc}") from exc
        self._applied.add(migrations.owner)

    def version_of(self, migrations: Migrations) -> int:
        """How far one owner's tables are in this register."""
        return applied_version(self._conn, migrations)

    @property
    def schema_version(self) -> int:
        """The version of the register's own tables."""
        return self.version_of(REGISTER_TABLES)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> CaseRegister:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[CaseRegister]:
        """One write transaction: every change inside is committed together or not at all."""
        if self.readonly:
            raise RegisterError(f"the case register {self.path} is open read-only")
        if self._conn.in_transaction:
            yield self
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise RegisterError(f"the case register {self.path} is busy: {exc}") from exc
            raise RegisterError(self._write_failed(exc)) from exc
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:  # a full disk, a failing one: nothing of the transaction stays
            self._rollback()
            raise RegisterError(self._write_failed(exc)) from exc

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite has already rolled back after some failures
            pass

    def _write_failed(self, exc: sqlite3.Error) -> str:
        return (f"cannot write the case register {self.path}: {exc} (the last change was not "
                "recorded; free some space or mend the disk, then run the command again)")

    @contextmanager
    def savepoint(self) -> Iterator[CaseRegister]:
        """A part of the current transaction that an error inside undoes alone (then re-raised).

        For one message of a batch that fails: its changes go, the batch's others stay.
        """
        if not self._conn.in_transaction:
            raise RegisterError("a savepoint is part of a transaction: open one first")
        # One name for all: ROLLBACK TO and RELEASE find the innermost savepoint of that name,
        # and the same three statements stay prepared rather than compiled anew each time.
        self.execute("SAVEPOINT part")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK TO part")
            raise
        finally:
            self.execute("RELEASE part")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one SQL statement on the register (for modules that extend its schema)."""
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise RegisterError(f"case register {self.path}: {exc}") from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        """Run one SQL statement once for each row of parameters (`execute`, in one call)."""
        try:
            return self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise RegisterError(f"case register {self.path}: {exc}") from exc

    def now(self) -> str:
        """The current time as the register stamps it (UTC, ISO 8601)."""
        return _stamp(self._clock())

    # --- reading ---------------------------------------------------------------------------------

    def _case(self, row: sqlite3.Row) -> Case:
        ids = tuple(r[0] for r in self.execute(
            "SELECT message_id FROM case_messages WHERE ref = ? AND direction = 'in' ORDER BY rowid",
            (row["ref"],)))
        return Case(ref=row["ref"], organisation=row["organisation"],
                    commissioned=_bool(row["commissioned"]), sender=row["sender"],
                    stage=row["stage"], status=row["status"], opened=row["opened"],
                    updated=row["updated"], topic=row["topic"], outcome=row["outcome"],
                    message_ids=ids, owner=row["owner"], received=row["received"],
                    stage_since=row["stage_since"], merged_into=row["merged_into"])

    def case(self, ref: str) -> Case | None:
        """The case with this reference, or None."""
        row = self.execute("SELECT * FROM cases WHERE ref = ?", (ref.strip().upper(),)).fetchone()
        return self._case(row) if row else None

    def require_case(self, ref: str) -> Case:
        """The case with this reference; RegisterError when there is none."""
        found = self.case(ref)
        if found is None:
            raise RegisterError(f"no case {ref} in the register {self.path}")
        return found

    def cases(self, stage: int | None = None, status: str | None = None) -> list[Case]:
        """Cases in the order they were opened, optionally only one stage or status."""
        sql, params = "SELECT * FROM cases WHERE 1 = 1", list[Any]()
        if stage is not None:
            sql += " AND stage = ?"
            params.append(stage)
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        rows = self.execute(sql + " ORDER BY year, number", params).fetchall()
        return [self._case(r) for r in rows]

    def events(self, ref: str) -> list[CaseEvent]:
        """The history of a case, oldest first."""
        rows = self.execute("SELECT * FROM events WHERE ref = ? ORDER BY id", (ref,)).fetchall()
        return [CaseEvent(r["at"], r["kind"], r["stage"], r["actor"], r["reason"], r["message_id"],
                          r["disposition"], r["previous"], r["via"])
                for r in rows]

    def case_for_message_ids(self, message_ids: Sequence[str]) -> Case | None:
        """The case that one of these Message-IDs (In-Reply-To, References) already belongs to."""
        for message_id in reversed(list(message_ids)):
            row = self.execute("SELECT ref FROM case_messages WHERE message_id = ?",
                               (message_id,)).fetchone()
            if row:
                return self.case(row[0])
        return None

    def recorded_message(self, message_id: str) -> RecordedMessage | None:
        """The routing already recorded for this Message-ID, or None."""
        row = self.execute("SELECT * FROM messages WHERE message_id = ?", (message_id,)).fetchone()
        if row is None:
            return None
        return RecordedMessage(
            message_id=row["message_id"], disposition=row["disposition"], stage=row["stage"],
            case_ref=row["case_ref"], organisation=row["organisation"],
            commissioned=_bool(row["commissioned"]), reasons=tuple(json.loads(row["reasons"])),
            subject=row["subject"], sender=row["sender"], sender_name=row["sender_name"],
            source=row["source"],
            recorded=row["recorded"], excerpt=row["excerpt"], received=row["received"],
            routed_disposition=row["routed_disposition"],
        )

    def first_message(self, ref: str) -> RecordedMessage | None:
        """The message that opened a case, as recorded."""
        row = self.execute("SELECT message_id FROM case_messages WHERE ref = ? AND direction = 'in' "
                           "ORDER BY rowid LIMIT 1", (ref,)).fetchone()
        return self.recorded_message(row[0]) if row else None

    # --- writing ---------------------------------------------------------------------------------

    def _next_ref(self, year: int) -> tuple[str, int]:
        row = self.execute("SELECT COALESCE(MAX(number), 0) FROM cases WHERE year = ?",
                           (year,)).fetchone()
        number = int(row[0]) + 1
        return f"{self.profile.case_prefix}-{year}-{number:04d}", number

    def add_event(self, ref: str, kind: str, stage: int, actor: str, reason: str,
                  message_id: str | None, at: str, *, disposition: str | None = None,
                  previous: str | None = None, via: str | None = None) -> None:
        """Append one event to a case's history (inside the caller's transaction)."""
        self.execute("INSERT INTO events (ref, at, kind, stage, actor, reason, message_id, disposition, "
                     "previous, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (ref, at, kind, stage, actor, reason, message_id, disposition, previous, via))


    def _add_message_id(self, ref: str, message_id: str, direction: str, at: str, subject: str,
                        sender: str | None) -> None:
        added = self.execute("INSERT INTO case_messages (message_id, ref, direction, added, subject, sender) "
                             "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
                             (message_id, ref, direction, at, subject, sender))
        if added.rowcount == 0:  # on a case already: this one, or another
            owner = self.execute("SELECT ref FROM case_messages WHERE message_id = ?", (message_id,)).fetchone()
            if owner[0] != ref:
                raise RegisterError(f"message {message_id} is already on case {owner[0]}")

    def _check_entry(self, stage: int, commissioned: bool | None, check_entry: bool) -> None:
        entry = self.profile.stage(stage).entry  # an unknown stage is refused either way
        if not check_entry:
            entry = "any"
        if entry == "escalation":
            raise RegisterError(f"a case cannot open at stage {stage}: it is reached by escalation")
        if entry == "commissioned" and not commissioned:
            raise RegisterError(f"only a commissioned organisation's case opens at stage {stage}")

    def open_case(self, *, organisation: str | None, commissioned: bool | None, stage: int,
                  topic: str, actor: str, reason: str, message_id: str | None = None,
                  sender: str | None = None, received: str | None = None,
                  check_entry: bool = True) -> Case:
        """Open a case at an entry stage of the profile and return it with its new reference.

        A case opens at a stage whose entry is 'commissioned' (only for a commissioned
        organisation) or 'any'; stages entered by escalation are reached with `escalate`.
        A caseworker's correction (``check_entry`` false) may open one at any stage.
        ``received`` is when its first message came (its time at the stage counts from then).
        """
        self._check_entry(stage, commissioned, check_entry)
        with self.transaction():
            return self.require_case(self.open_case_ref(
                organisation=organisation, commissioned=commissioned, stage=stage, topic=topic,
                actor=actor, reason=reason, message_id=message_id, sender=sender, received=received,
                check_entry=check_entry))

    def open_case_ref(self, *, organisation: str | None, commissioned: bool | None, stage: int,
                      topic: str, actor: str, reason: str, message_id: str | None = None,
                      sender: str | None = None, received: str | None = None,
                      check_entry: bool = True) -> str:
        """`open_case`, returning only the new case's reference (the case is not read back)."""
        self._check_entry(stage, commissioned, check_entry)
        with self.transaction():
            at = self.now()
            year = self._clock().astimezone(UTC).year
            ref, number = self._next_ref(year)
            self.execute(
                "INSERT INTO cases (ref, year, number, organisation, commissioned, sender, stage, "
                "status, opened, updated, topic, received, stage_since) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (ref, year, number, organisation, None if commissioned is None else int(commissioned),
                 sender, stage, at, at, topic, received or at, received or at))
            self.add_event(ref, "opened", stage, actor, reason, message_id, at)
            if message_id:
                self._add_message_id(ref, message_id, "in", at, topic, sender)
            return ref

    def join_case(self, ref: str, message_id: str, *, actor: str, reason: str, subject: str = "",
                  sender: str | None = None, received: str | None = None) -> Case:
        """Add an incoming message to a case's history (an earlier ``received`` dates the case back)."""
        with self.transaction():
            case = self.require_case(ref)
            at = self.now()
            self._add_message_id(case.ref, message_id, "in", at, subject, sender)
            self.add_event(case.ref, "message", case.stage, actor, reason, message_id, at)
            self.execute("UPDATE cases SET updated = ? WHERE ref = ?", (at, case.ref))
            if received:
                self.execute("UPDATE cases SET received = ? WHERE ref = ? AND (received IS NULL "
                             "OR received > ?)", (received, case.ref, received))
            return self.require_case(case.ref)

    def add_outgoing(self, ref: str, message_id: str, subject: str = "") -> None:
        """Record the Message-ID of a message sent on a case (an acknowledgement), so replies thread."""
        with self.transaction():
            case = self.require_case(ref)
            self._add_message_id(case.ref, message_id, "out", self.now(), subject, None)

    def escalate(self, ref: str, *, actor: str | None = None, reason: str, message_id: str | None = None,
                 since: str | None = None) -> Case:
        """Move an open case up one stage, never past the profile's last stage.

        `actor` is who escalates it (default: the person at this machine, see `caseworker`);
        ``since`` is when the case reached the new stage (the asking message's date), else now.
        """
        if not reason.strip():
            raise RegisterError("an escalation needs a reason")
        with self.transaction():
            case = self.require_case(ref)
            if case.status != "open":
                raise RegisterError(f"case {case.ref} is {case.status}; it cannot be escalated")
            if case.stage >= self.profile.last_stage:
                raise RegisterError(f"case {case.ref} is already at stage {case.stage}, the last "
                                    f"stage of {self.profile.short_name}'s dispute process")
            stage = case.stage + 1
            at = self.now()
            self.execute("UPDATE cases SET stage = ?, updated = ?, stage_since = ? WHERE ref = ?",
                         (stage, at, since or at, case.ref))
            self.add_event(case.ref, "escalated", stage, actor or caseworker(), reason, message_id, at)
            return self.require_case(case.ref)

    def close_case(self, ref: str, *, actor: str | None = None, outcome: str) -> Case:
        """Close an open case with its outcome; `actor` as for `escalate`."""
        if not outcome.strip():
            raise RegisterError("closing a case needs an outcome")
        with self.transaction():
            case = self.require_case(ref)
            if case.status == "closed":
                raise RegisterError(f"case {case.ref} is already closed")
            at = self.now()
            self.execute("UPDATE cases SET status = 'closed', outcome = ?, updated = ? WHERE ref = ?",
                         (outcome, at, case.ref))
            self.add_event(case.ref, "closed", case.stage, actor or caseworker(), outcome, None, at)
            return self.require_case(case.ref)

    def knows_message(self, message_id: str) -> bool:
        """Whether a routing is recorded for this Message-ID (`recorded_message` is not None)."""
        return self.execute("SELECT 1 FROM messages WHERE message_id = ?", (message_id,)).fetchone() is not None

    def record_message(self, message: RecordedMessage) -> RecordedMessage:
        """Keep the routing of one message; a Message-ID already kept is left as it was."""
        with self.transaction():
            self.keep_message(message)
            recorded = self.recorded_message(message.message_id)
            assert recorded is not None
            return recorded

    def keep_message(self, message: RecordedMessage) -> None:
        """`record_message` without reading the record back."""
        at = self.now()
        self.execute(
            "INSERT INTO messages (message_id, disposition, stage, case_ref, organisation, "
            "commissioned, reasons, subject, sender, sender_name, source, excerpt, recorded, "
            "received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            (message.message_id, message.disposition, message.stage, message.case_ref,
             message.organisation, None if message.commissioned is None else int(message.commissioned),
             json.dumps(list(message.reasons), ensure_ascii=False), message.subject,
             message.sender, message.sender_name, message.source, message.excerpt, at,
             message.received or at))

    def corrections(self) -> list[tuple[str, str]]:
        """Every message a caseworker corrected, as (its subject and own words, the corrected
        disposition), oldest first: what `mail train` learns from. A message corrected twice
        counts once, with its latest disposition."""
        rows = self.execute(
            "SELECT m.subject, m.excerpt, e.disposition FROM events e JOIN messages m "
            "ON m.message_id = e.message_id WHERE e.kind = 'correction' AND e.disposition IS NOT NULL "
            "AND e.id = (SELECT MAX(id) FROM events WHERE kind = 'correction' "
            "AND message_id = e.message_id) ORDER BY e.id").fetchall()
        return [("\n\n".join(p for p in (r["subject"], r["excerpt"]) if p), r["disposition"])
                for r in rows]
