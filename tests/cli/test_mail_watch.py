"""`compact-docs mail watch` as a process: SIGKILL at random moments, SIGTERM, --json, secrets."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, NoReturn

import pytest
from backlog import EXPECTED, corpus, realistic_backlog
from servers import CAPABILITIES_WITHOUT_MOVE, PASSWORD, DovecotServer, MailUser
from testdata import ROOT
from watching import FOLDERS, PASSWORD_ENV, write_config

from compact_docs.register.cases import CaseRegister
from mailflows.config import require_config
from mailflows.mailboxes import RawMessage
from mailflows.parsing import parse_message
from mailflows.route import route_messages


def watch_process(config: Path, *args: str, password: str = PASSWORD) -> subprocess.Popen[str]:
    env = {**os.environ, PASSWORD_ENV: password}
    return subprocess.Popen([sys.executable, "-m", "cli", "mail", "watch", "--config", str(config), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class WatchOutput:
    """A running watcher's stdout and stderr, read by threads so a test never blocks on a pipe.

    A watcher that stalls without a word makes ``wait_for_line`` and ``finish`` fail the test
    after their timeout (the process is killed), instead of hanging CI.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self._out, False), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self._err, True), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], kept: list[str], announce: bool) -> None:
        with stream:
            for line in stream:
                kept.append(line)
                if announce:
                    self.lines.put(line)
        if announce:
            self.lines.put(None)  # end of stream: the process closed stderr

    def wait_for_line(self, wanted: Callable[[str], bool], timeout: float) -> str:
        """The first stderr line for which ``wanted`` is true; kill and fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                self._fail(f"no such line on stderr within {timeout:.0f} s")
            if line is None:
                self._fail("stderr ended before such a line")
            if wanted(line):
                return line

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the process to end: its exit status, stdout and stderr; kill and fail on timeout."""
        try:
            returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._fail(f"still running after {timeout:.0f} s")
        for reader in self._readers:
            reader.join(timeout=10)
        return returncode, "".join(self._out), "".join(self._err)

    def _fail(self, why: str) -> NoReturn:
        self.process.kill()
        self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        pytest.fail(f"mail watch: {why}; stderr so far:\n{''.join(self._err)[-2000:]}")


def journal_count(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM mailbox_journal").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path, mail_user: MailUser) -> None:
    _kill_at_random_moments_then_finish(tmp_path, mail_user, seed=2026)


def test_sigkill_at_random_moments_on_a_server_without_move(
    tmp_path: Path, start_dovecot: Callable[..., DovecotServer]
) -> None:
    # Each move is UID COPY, STORE \Deleted, UID EXPUNGE here: a kill can fall between them.
    user = start_dovecot(imap_capability=CAPABILITIES_WITHOUT_MOVE).new_user()
    _kill_at_random_moments_then_finish(tmp_path, user, seed=6)


def _kill_at_random_moments_then_finish(tmp_path: Path, mail_user: MailUser, *, seed: int) -> None:
    """SIGKILL `mail watch --once` six times over a backlog, then a clean run: all once, in place."""
    backlog = realistic_backlog(150, seed=11)
    with mail_user.connect() as client:
        for _name, raw in backlog:
            client.append("INBOX", raw)
    # As IMAP returns them (CRLF line ends): a message without a Message-ID is known by its hash.
    served = [raw for _uid, raw in sorted(mail_user.messages().items())]
    config_path = write_config(tmp_path, mail_user, watch={"batch_size": 2})
    config = require_config(config_path)
    database = config.database_path
    kills = _kill_six_times(config_path, database, random.Random(seed))
    assert kills >= 3, "the backlog ran out before the process could be killed often enough"

    final = watch_process(config_path, "--once")
    _out, err = final.communicate(timeout=60)
    assert final.returncode == 0, err

    # The same messages routed once, without interruptions, into a register of their own.
    reference_db = tmp_path / "reference.db"
    with CaseRegister(reference_db, config.compact_profile) as reference:
        decided = {d.message_id: d.disposition for d in route_messages(
            (RawMessage(str(i), raw) for i, raw in enumerate(served)), config, reference)}

    assert mail_user.count("INBOX") == 0
    placed: Counter[str] = Counter()
    for disposition, folder in FOLDERS.items():
        for raw in mail_user.messages(folder).values():
            message_id = parse_message(raw).message_id
            placed[message_id] += 1
            assert decided[message_id] == disposition
    assert set(placed) == set(decided) and set(placed.values()) == {1}

    assert _counts(database) == _counts(reference_db)
    with sqlite3.connect(database) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM mailbox_journal GROUP BY state").fetchall())
        routed = {row[0]: row[1] for row in conn.execute("SELECT message_id, disposition FROM messages")}
    assert states == {"moved": len(backlog)}
    assert routed == decided


def _kill_six_times(config_path: Path, database: Path, rng: random.Random) -> int:
    """Start `mail watch --once` six times, SIGKILL it at a random moment; how many were killed."""
    kills = 0
    for attempt in range(6):
        before = journal_count(database)
        process = watch_process(config_path, "--once")
        if attempt == 0:  # once while starting up: connecting, creating folders, migrating
            time.sleep(rng.uniform(0.2, 0.5))
        else:  # the others while routing: between any two steps of a batch
            deadline = time.monotonic() + 20
            while journal_count(database) == before and process.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=20)
    return kills


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("cases", "events", "case_messages", "messages")}


def test_json_prints_one_object_per_message_in_order(tmp_path: Path, mail_user: MailUser) -> None:
    messages = corpus()[:15]
    for _name, raw in messages:
        mail_user.append(raw)
    process = watch_process(write_config(tmp_path, mail_user), "--once", "--json")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["disposition"] for o in objects] == [EXPECTED[name] for name, _ in messages]
    assert all((o["case_ref"] is not None) == o["disposition"].startswith("stage-") for o in objects)
    # The log: one line per message, with its disposition, case and folder.
    lines = [line for line in err.splitlines() if " UID " in line]
    assert len(lines) == len(messages)
    assert all(" -> Disputes/" in line for line in lines)


def test_sigterm_while_idle_exits_cleanly(tmp_path: Path, mail_user: MailUser) -> None:
    mail_user.append(corpus()[0][1])
    process = watch_process(write_config(tmp_path, mail_user))
    output = WatchOutput(process)
    output.wait_for_line(lambda line: "waiting for new mail" in line, timeout=30)
    process.send_signal(signal.SIGTERM)
    returncode, out, err = output.finish(timeout=10)
    assert returncode == 0, err
    assert out.startswith("Routed 1 (stage-1 1)")
    assert mail_user.count("INBOX") == 0


def test_sigterm_during_the_backlog_finishes_the_batch(tmp_path: Path, mail_user: MailUser) -> None:
    backlog = realistic_backlog(40, seed=5)
    with mail_user.connect() as client:
        for _name, raw in backlog:
            client.append("INBOX", raw)
    config_path = write_config(tmp_path, mail_user, watch={"batch_size": 2})
    process = watch_process(config_path, "--once")
    output = WatchOutput(process)
    output.wait_for_line(lambda line: " UID " in line, timeout=30)
    process.send_signal(signal.SIGTERM)
    returncode, _out, err = output.finish(timeout=20)
    assert returncode == 0, err
    database = require_config(config_path).database_path
    with sqlite3.connect(database) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM mailbox_journal GROUP BY state").fetchall())
    # Whatever was recorded was also moved; the rest waits in the inbox.
    assert "recorded" not in states
    assert mail_user.count("INBOX") == len(backlog) - states.get("moved", 0)


def test_a_wrong_password_is_one_line_without_the_password(tmp_path: Path, mail_user: MailUser) -> None:
    process = watch_process(write_config(tmp_path, mail_user), "--once", password="hunter2-wrong")
    out, err = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "hunter2-wrong" not in out + err
    assert err.startswith("Error: ") and "Traceback" not in err


def test_a_silent_process_fails_the_wait_instead_of_hanging() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = WatchOutput(process)
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="no such line on stderr within 1 s"):
        output.wait_for_line(lambda line: True, timeout=1)
    assert process.poll() is not None  # killed, not left behind
    with pytest.raises(pytest.fail.Exception, match="still running"):
        WatchOutput(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    ).finish(timeout=1)
    assert time.monotonic() - started < 30
