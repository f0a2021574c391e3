"""The SQLite case register: references, stage moves, history, idempotent records, schema, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testdata import Clock

from compact_docs.errors import RegisterError
from compact_docs.register.cases import CaseRegister
from compact_docs.register.records import RecordedMessage, case_ref_pattern
from compact_docs.register.schema import REGISTER_TABLES, SCHEMA_VERSION, Migration, Migrations
from compact_docs.rules.profile import load_profile

BEXLEY = load_profile("bexley")


def open_one(reg: CaseRegister, stage: int = 1, commissioned: bool | None = True,
             message_id: str | None = "<m1@x>") -> str:
    return reg.open_case(organisation="Bexley Age Well", commissioned=commissioned, stage=stage,
                         topic="Monitoring", actor="test", reason="opened in a test",
                         message_id=message_id, sender="jo@agewell.example").ref


def test_new_register_has_the_schema_version(register: CaseRegister, tmp_path: Path) -> None:
    assert register.schema_version == SCHEMA_VERSION == REGISTER_TABLES.latest
    with sqlite3.connect(tmp_path / "cases.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"cases", "events", "case_messages", "messages"} <= tables


def test_references_count_up_per_year(register: CaseRegister, clock: Clock) -> None:
    assert open_one(register, message_id="<a@x>") == "BXC-2026-0001"
    assert open_one(register, message_id="<b@x>") == "BXC-2026-0002"
    clock.now = datetime(2027, 1, 2, tzinfo=UTC)
    assert open_one(register, message_id="<c@x>") == "BXC-2027-0001"
    assert [c.ref for c in register.cases()] == ["BXC-2026-0001", "BXC-2026-0002", "BXC-2027-0001"]


def test_case_fields_and_history(register: CaseRegister) -> None:
    ref = open_one(register)
    case = register.require_case(ref.lower())
    assert (case.stage, case.status, case.organisation, case.commissioned) == (1, "open",
                                                                            "Bexley Age Well", True)
    assert case.opened == "2026-11-24T12:00:00+00:00"
    assert case.message_ids == ("<m1@x>",)
    register.join_case(ref, "<m2@x>", actor="rules", reason="reply")
    register.add_outgoing(ref, "<ack@bvsc.example>")
    case = register.require_case(ref)
    assert case.message_ids == ("<m1@x>", "<m2@x>")
    assert register.case_for_message_ids(["<nothing@x>", "<ack@bvsc.example>"]) == case
    assert [e.kind for e in register.events(ref)] == ["opened", "message"]
    assert case.to_dict()["message_ids"] == ["<m1@x>", "<m2@x>"]


def test_stage_moves_up_one_at_a_time_and_stops_at_the_last(register: CaseRegister) -> None:
    ref = open_one(register)
    assert register.escalate(ref, actor="caseworker", reason="no progress").stage == 2
    assert register.escalate(ref, actor="caseworker", reason="policy decision").stage == 3
    with pytest.raises(RegisterError, match="already at stage 3"):
        register.escalate(ref, actor="caseworker", reason="again")
    kinds = [(e.kind, e.stage, e.actor) for e in register.events(ref)]
    assert kinds == [("opened", 1, "test"), ("escalated", 2, "caseworker"),
                     ("escalated", 3, "caseworker")]


def test_cases_open_only_at_entry_stages(register: CaseRegister) -> None:
    with pytest.raises(RegisterError, match="reached by escalation"):
        open_one(register, stage=3)
    with pytest.raises(RegisterError, match="only a commissioned"):
        open_one(register, stage=1, commissioned=False)
    assert register.require_case(open_one(register, stage=2, commissioned=False)).stage == 2


def test_escalation_needs_a_reason_and_an_open_case(register: CaseRegister) -> None:
    ref = open_one(register)
    with pytest.raises(RegisterError, match="needs a reason"):
        register.escalate(ref, actor="x", reason="  ")
    closed = register.close_case(ref, actor="caseworker", outcome="Paid on 1 December")
    assert (closed.status, closed.outcome) == ("closed", "Paid on 1 December")
    with pytest.raises(RegisterError, match="closed"):
        register.escalate(ref, actor="x", reason="too late")
    with pytest.raises(RegisterError, match="already closed"):
        register.close_case(ref, actor="x", outcome="again")


def test_unknown_case(register: CaseRegister) -> None:
    assert register.case("BXC-2026-0042") is None
    with pytest.raises(RegisterError, match="no case BXC-2026-0042"):
        register.escalate("BXC-2026-0042", actor="x", reason="y")


def test_list_filters_by_stage(register: CaseRegister) -> None:
    open_one(register, message_id="<a@x>")
    open_one(register, stage=2, commissioned=False, message_id="<b@x>")
    assert [c.stage for c in register.cases(stage=2)] == [2]
    assert register.cases(status="closed") == []


def test_recording_a_message_twice_keeps_the_first(register: CaseRegister) -> None:
    first = register.record_message(RecordedMessage("<m@x>", "stage-1", 1, None, "Age Well", True,
                                                    ("rule one",)))
    again = register.record_message(RecordedMessage("<m@x>", "ignored", None, None, None, None))
    assert again == first and first.reasons == ("rule one",)


def test_keeping_a_message_is_recording_it_without_reading_it_back(register: CaseRegister) -> None:
    assert not register.knows_message("<m@x>")
    register.keep_message(RecordedMessage("<m@x>", "stage-1", 1, None, "Age Well", True, ("rule one",)))
    register.keep_message(RecordedMessage("<m@x>", "ignored", None, None, None, None))  # kept as it was
    assert register.knows_message("<m@x>")
    recorded = register.recorded_message("<m@x>")
    assert recorded is not None and (recorded.disposition, recorded.reasons) == ("stage-1", ("rule one",))


def test_a_case_opened_for_its_reference_is_the_same_case(register: CaseRegister) -> None:
    ref = register.open_case_ref(organisation="Bexley Age Well", commissioned=True, stage=1,
                                 topic="Monitoring", actor="test", reason="opened in a test",
                                 message_id="<m1@x>", sender="jo@agewell.example")
    case = register.require_case(ref)
    assert (case.stage, case.message_ids, case.sender) == (1, ("<m1@x>",), "jo@agewell.example")
    with pytest.raises(RegisterError, match="reached by escalation"):
        register.open_case_ref(organisation=None, commissioned=None, stage=3, topic="x", actor="test",
                               reason="r")
    with pytest.raises(RegisterError, match="already on case"):
        register.open_case(organisation=None, commissioned=None, stage=2, topic="x", actor="test",
                           reason="r", message_id="<m1@x>")
    assert [c.ref for c in register.cases()] == [ref]


def test_savepoints_nest_and_undo_only_their_own_part(register: CaseRegister) -> None:
    with register.transaction():
        open_one(register, message_id="<kept@x>")
        with pytest.raises(RuntimeError), register.savepoint():
            open_one(register, message_id="<outer@x>")
            with register.savepoint():
                open_one(register, message_id="<inner@x>")
            raise RuntimeError("this part fails")
        with register.savepoint():
            with pytest.raises(RuntimeError), register.savepoint():
                open_one(register, message_id="<undone@x>")
                raise RuntimeError("only the inner part fails")
            open_one(register, message_id="<second@x>")
    assert [c.message_ids for c in register.cases()] == [("<kept@x>",), ("<second@x>",)]


def test_a_transaction_is_all_or_nothing(register: CaseRegister) -> None:
    with pytest.raises(RuntimeError), register.transaction():
        open_one(register)
        raise RuntimeError("crash between writes")
    assert register.cases() == []


def test_readonly_register_never_creates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with CaseRegister(path, BEXLEY, readonly=True) as reg:
        assert reg.cases() == []
        with pytest.raises(RegisterError, match="read-only"), reg.transaction():
            pass
    assert not path.exists()


def test_readonly_refuses_an_older_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    with pytest.raises(RegisterError, match="schema version 0"):
        CaseRegister(path, BEXLEY, readonly=True)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(RegisterError, match="not a usable case register"):
        CaseRegister(path, BEXLEY)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="no folder"):
        CaseRegister(tmp_path / "nope" / "cases.db", BEXLEY)


def test_threads_opening_cases_at_once_get_distinct_references(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    CaseRegister(path, BEXLEY).close()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with CaseRegister(path, BEXLEY) as reg:
                for i in range(10):
                    open_one(reg, message_id=f"<t{n}-{i}@x>")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with CaseRegister(path, BEXLEY) as reg:
        refs = [c.ref for c in reg.cases()]
    year = datetime.now(UTC).year
    assert refs == [f"BXC-{year}-{n:04d}" for n in range(1, 41)]


def test_case_ref_pattern_reads_subjects() -> None:
    pattern = case_ref_pattern(BEXLEY)
    assert pattern.findall("Re: [BXC-2026-0007] Monitoring") == ["BXC-2026-0007"]
    assert pattern.findall("Re: [ bxc-2026-0012 ]") == ["bxc-2026-0012"]
    assert pattern.findall("Re: BXC-2026-0007 without brackets") == []


def test_another_package_owns_its_tables(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    CaseRegister(path, BEXLEY).close()
    journal = Migrations("journal", (
        Migration(1, "journal", "CREATE TABLE journal (id INTEGER PRIMARY KEY, note TEXT)"),
    ))
    with pytest.raises(RegisterError, match="schema version 0 of its journal tables"):
        CaseRegister(path, BEXLEY, readonly=True, tables=(journal,))
    with CaseRegister(path, BEXLEY, tables=(journal,)) as reg:
        assert (reg.schema_version, reg.version_of(journal)) == (SCHEMA_VERSION, 1)
        reg.execute("INSERT INTO journal (note) VALUES ('moved')")
    with CaseRegister(path, BEXLEY, readonly=True, tables=(journal,)) as reg:
        assert reg.execute("SELECT note FROM journal").fetchone()[0] == "moved"
    with pytest.raises(RegisterError, match="numbered 1, 2, 3"):
        Migrations("gap", (Migration(2, "gap", ""),))


@pytest.mark.parametrize("umask", [0o002, 0o022])
def test_a_new_register_is_private_whatever_the_umask(umask: int, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(umask)
    try:
        with CaseRegister(tmp_path / "cases.db", BEXLEY) as register:
            register.open_case(organisation="Bexley Age Well", commissioned=True, stage=1,
                               topic="late payment", actor="test", reason="opened", message_id="<m1@x>")
            made = sorted(p.name for p in tmp_path.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    finally:
        os.umask(old)
    assert made == ["cases.db", "cases.db-shm", "cases.db-wal"]
    assert modes == dict.fromkeys(made, 0o600)


def test_a_group_register_is_shared_with_the_group_and_an_existing_one_kept(tmp_path: Path) -> None:
    import os
    import stat

    from mailflows.config import parse_config
    from mailflows.route import open_register

    old = os.umask(0o022)
    try:
        config = parse_config('database = "group.db"\ndatabase_mode = "group"\n', "compact.toml", tmp_path)
        open_register(config).close()
        assert stat.S_IMODE((tmp_path / "group.db").stat().st_mode) == 0o660
        (tmp_path / "mine.db").touch(mode=0o640)
        CaseRegister(tmp_path / "mine.db", BEXLEY).close()
        assert stat.S_IMODE((tmp_path / "mine.db").stat().st_mode) == 0o640
    finally:
        os.umask(old)
