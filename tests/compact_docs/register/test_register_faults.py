"""The case register under faults: a full disk, and two processes creating one register at once."""

from __future__ import annotations

import mailbox
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from backlog import corpus
from testdata import MAIL, ROOT

from compact_docs.register import cases as register_module
from compact_docs.register.cases import CaseRegister
from compact_docs.register.schema import SCHEMA_VERSION
from mailflows.config import require_config
from mailflows.route import open_register


def _route(config: Path, mbox: Path, *, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit_files() -> None:  # the register's files cannot grow past this: a disk that is full
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([sys.executable, "-m", "cli", "mail", "route", "--mbox", str(mbox),
                           "--config", str(config), "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, preexec_fn=limit_files if file_size_limit else None)


def test_a_full_disk_during_mail_route_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "compact.toml"
    shutil.copy(MAIL / "compact.toml", config)
    box = mailbox.mbox(tmp_path / "disputes.mbox")
    for _name, raw in corpus():
        box.add(raw)
    box.close()
    database = require_config(config).database_path
    with open_register(require_config(config)):
        pass  # made, with the mailbox's own tables, while there is room
    size = database.stat().st_size

    full = _route(config, tmp_path / "disputes.mbox", file_size_limit=size + 48 * 1024)

    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    [line] = full.stderr.splitlines()
    assert line.startswith(f"Error: cannot write the case register {database}: ")
    assert "run the command again" in line
    routed = len(full.stdout.splitlines())
    assert 0 < routed < len(corpus())
    # Nothing was lost or half written: with room again, the rest is routed and the first
    # messages are recognised.
    again = _route(config, tmp_path / "disputes.mbox")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == len(corpus())


def test_a_new_register_waits_for_another_process_creating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.db"
    other = sqlite3.connect(path, isolation_level=None)  # another `mail route`, half-way through
    other.execute("BEGIN IMMEDIATE")  # creating the file: SQLite refuses a journal-mode change at once
    waited: list[float] = []

    def pause(seconds: float) -> None:  # the other process finishes while this one waits
        waited.append(seconds)
        if other.in_transaction:
            other.execute("COMMIT")

    monkeypatch.setattr(register_module, "_pause", pause, raising=False)
    config = require_config(MAIL / "compact.toml")
    with CaseRegister(path, config.compact_profile) as register:
        assert register.schema_version == SCHEMA_VERSION
    assert waited
    other.close()
