"""The `mail` and `cases` commands: JSON contracts, --config placement, re-runs, concurrent routes."""

from __future__ import annotations

import json
import mailbox
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from testdata import MAIL, ROOT

from cli import cli
from mailflows.config import CONFIG_ENV

DECISION_KEYS = ["disposition", "stage", "case_ref", "organisation", "commissioned", "message_id",
                 "reasons"]
THREAD_A = [MAIL / "threads" / f"a{i}.eml" for i in range(1, 5)]
THREAD_C = [MAIL / "threads" / f"c{i}.eml" for i in range(1, 5)]
STANDALONE = sorted((MAIL / "messages").glob("*.eml"))


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "compact.toml"
    path.parent.mkdir()
    path.write_text((MAIL / "compact.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


def make_mbox(path: Path, files: list[Path]) -> Path:
    box = mailbox.mbox(path)
    for f in files:
        box.add(f.read_bytes())
    box.close()
    return path


def make_maildir(path: Path, files: list[Path]) -> Path:
    box = mailbox.Maildir(path)
    for f in files:
        box.add(f.read_bytes())
    box.close()
    return path


def run(runner: CliRunner, *args: str | Path, code: int = 0) -> str:
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def lines_of_json(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_classify_json_contract_without_a_configuration(runner: CliRunner) -> None:
    out = run(runner, "mail", "classify", MAIL / "messages" / "24-bounce-dsn.eml", "--json")
    decision = json.loads(out)
    assert list(decision) == DECISION_KEYS
    assert decision["disposition"] == "ignored" and decision["stage"] is None
    assert decision["message_id"] == "<20261117181300.4E2B1@mx.bvsc.example>"


@pytest.mark.parametrize("where", ["before", "after"])
def test_classify_with_config_before_or_after(runner: CliRunner, config: Path, where: str) -> None:
    message = MAIL / "messages" / "01-late-payment.eml"
    args: list[str | Path] = (["mail", "--config", config, "classify", message, "--json"]
                              if where == "before"
                              else ["mail", "classify", message, "--json", "--config", config])
    decision = json.loads(run(runner, *args))
    assert decision == {**decision, "disposition": "stage-1", "stage": 1, "case_ref": None,
                        "organisation": "Crayford Community Larder", "commissioned": True}
    assert not (config.parent / "cases.db").exists()


def test_classify_text_output(runner: CliRunner, config: Path) -> None:
    out = run(runner, "mail", "classify", MAIL / "messages" / "14-not-commissioned-objection.eml",
              "--config", config)
    assert out.startswith("stage-2")
    assert "Sidcup Youth Arts (not commissioned)" in out
    assert "- Sidcup Youth Arts is not commissioned: goes straight to stage 2" in out


def test_route_json_then_rerun_is_a_no_op(runner: CliRunner, config: Path, tmp_path: Path) -> None:
    box = make_mbox(tmp_path / "in.mbox", STANDALONE + THREAD_A)
    first = lines_of_json(run(runner, "mail", "route", "--mbox", box, "--config", config, "--json"))
    assert len(first) == len(STANDALONE) + 4
    assert all(list(d) == DECISION_KEYS for d in first)
    assert [d["disposition"] for d in first[-4:]] == ["stage-2", "stage-2", "stage-3", "stage-3"]
    assert len({d["case_ref"] for d in first[-4:]}) == 1
    db = config.parent / "cases.db"
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT COUNT(*), MAX(updated) FROM cases").fetchone()
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    second = lines_of_json(run(runner, "mail", "--config", config, "route", "--mbox", box, "--json"))
    assert [(d["disposition"], d["case_ref"]) for d in second] == [
        (d["disposition"], d["case_ref"]) for d in first]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), MAX(updated) FROM cases").fetchone() == before
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == events
    summary = run(runner, "mail", "route", "--mbox", box, "--config", config).splitlines()[-1]
    assert summary == f"Routed: {len(first)} already recorded"


def test_route_text_output_and_summary(runner: CliRunner, config: Path, tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "Maildir", THREAD_C)
    out = run(runner, "mail", "route", "--maildir", box, "--config", config)
    assert out.splitlines()[-1] == "Routed: 1 ignored, 1 stage-2, 2 stage-3"


def test_route_needs_a_configuration_and_one_mailbox(runner: CliRunner, tmp_path: Path,
                                                     config: Path) -> None:
    box = make_mbox(tmp_path / "in.mbox", THREAD_A)
    out = run(runner, "mail", "route", "--mbox", box, code=2)
    assert "no mail configuration at" in out and "Traceback" not in out
    out = run(runner, "mail", "route", "--config", config, code=2)
    assert "exactly one of --mbox FILE or --maildir DIR" in out
    out = run(runner, "mail", "route", "--mbox", tmp_path / "none.mbox", "--config", config, code=2)
    assert out.strip() == f"Error: {tmp_path / 'none.mbox'}: no such mbox file"
    eml = THREAD_A[0]
    out = run(runner, "mail", "route", "--mbox", eml, "--config", config, code=2)
    assert out.strip() == f"Error: {eml} is not an mbox file: it does not start with a 'From ' line"


def test_environment_and_working_folder_configurations(runner: CliRunner, config: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    box = make_mbox(tmp_path / "in.mbox", THREAD_A[:1])
    monkeypatch.setenv(CONFIG_ENV, str(config))
    run(runner, "mail", "route", "--mbox", box)
    assert (config.parent / "cases.db").exists()
    monkeypatch.delenv(CONFIG_ENV)
    (tmp_path / "compact.toml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    run(runner, "mail", "route", "--mbox", box)
    assert (tmp_path / "cases.db").exists()


@pytest.fixture
def routed(runner: CliRunner, config: Path, tmp_path: Path) -> Path:
    box = make_mbox(tmp_path / "in.mbox", THREAD_A[:2] + THREAD_C[:1])
    run(runner, "mail", "route", "--mbox", box, "--config", config)
    return config


def test_cases_list_json_contract_and_config_placement(runner: CliRunner, routed: Path) -> None:
    after = json.loads(run(runner, "cases", "list", "--json", "--config", routed))
    before = json.loads(run(runner, "cases", "--config", routed, "list", "--json"))
    assert after == before and len(after) == 2
    for case in after:
        assert {"ref", "stage", "status", "organisation", "commissioned", "opened",
                "message_ids"} <= set(case)
    assert [c["stage"] for c in after] == [2, 2]
    assert after[0]["message_ids"] == ["<thread-a1@mail.agewell.example>",
                                       "<thread-a2@mail.agewell.example>"]
    assert after[1]["organisation"] == "Sidcup Youth Arts" and after[1]["commissioned"] is False
    assert json.loads(run(runner, "cases", "list", "--stage", "1", "--json", "--config", routed)) == []


def test_cases_show_escalate_close(runner: CliRunner, routed: Path) -> None:
    ref = json.loads(run(runner, "cases", "list", "--json", "--config", routed))[1]["ref"]
    out = run(runner, "cases", "escalate", ref, "--reason", "Needs a policy decision on lettings",
              "--by", "Sam Caseworker", "--config", routed)
    assert out.splitlines()[0] == f"{ref} is now at stage 3, Policy decision."
    assert out.splitlines()[-1] == (f"Next: make the stage-3 letter: compact-docs cases letter {ref} "
                                    "--to BODY (one or more of: vcs-governing-board, strategic-commissioning-board)")
    out = run(runner, "cases", "escalate", ref, "--reason", "again", "--config", routed, code=2)
    assert "already at stage 3" in out
    shown = json.loads(run(runner, "cases", "show", ref, "--json", "--config", routed))
    assert [e["kind"] for e in shown["events"]] == ["opened", "escalated"]
    assert shown["events"][-1]["by"] == "Sam Caseworker"
    assert shown["events"][-1]["actor"] == "Sam Caseworker"
    out = run(runner, "cases", "--config", routed, "close", ref, "--outcome", "Board agreed", "--quiet")
    assert out.splitlines()[0] == f"{ref} is closed at stage 3."
    text = run(runner, "cases", "show", ref, "--config", routed)
    assert "outcome: Board agreed" in text and "(closed)" in text
    out = run(runner, "cases", "show", "BXC-1999-0001", "--config", routed, code=2)
    assert out.strip().startswith("Error: no case BXC-1999-0001")


def test_cases_letter(runner: CliRunner, routed: Path, tmp_path: Path) -> None:
    ref = json.loads(run(runner, "cases", "list", "--json", "--config", routed))[0]["ref"]
    out = run(runner, "cases", "letter", ref, "-o", tmp_path / "letters", "--format", "docx",
              "--ask", "A senior officer to review the returns", "--config", routed)
    written = Path(out.splitlines()[0])
    assert written.name == f"{ref.lower()}_bexley-age-well_escalation-stage-2.docx"
    assert written.is_file()


def test_cases_list_without_a_register_is_empty(runner: CliRunner, config: Path) -> None:
    assert run(runner, "cases", "list", "--config", config).strip() == "No cases."
    assert not (config.parent / "cases.db").exists()


def test_mail_and_cases_commands_have_examples(runner: CliRunner) -> None:
    for group, names in (("mail", ["classify", "route"]),
                         ("cases", ["list", "show", "escalate", "close", "letter"])):
        assert "Example" in run(runner, group, "--help")
        for name in names:
            assert "Example" in run(runner, group, name, "--help"), name


def test_two_processes_routing_into_one_register_make_no_duplicates(config: Path,
                                                                    tmp_path: Path) -> None:
    # Both mailboxes hold every standalone message, so they race for the same cases; each also
    # holds its own thread. Exactly one case per dispute must come out.
    mbox = make_mbox(tmp_path / "one.mbox", STANDALONE + THREAD_A)
    maildir = make_maildir(tmp_path / "two", list(reversed(STANDALONE)) + THREAD_C)
    command = [sys.executable, "-m", "cli", "mail", "route", "--config", str(config), "--json"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    procs = [subprocess.Popen([*command, "--mbox", str(mbox)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, cwd=tmp_path, env=env),
             subprocess.Popen([*command, "--maildir", str(maildir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, cwd=tmp_path, env=env)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        outputs.append(lines_of_json(out.decode()))
    assert [len(o) for o in outputs] == [len(STANDALONE) + 4, len(STANDALONE) + 4]
    with sqlite3.connect(config.parent / "cases.db") as conn:
        refs = [r[0] for r in conn.execute("SELECT ref FROM cases ORDER BY number")]
        per_case = dict(conn.execute("SELECT ref, COUNT(*) FROM case_messages GROUP BY ref"))
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    disputes = sum(1 for d in outputs[0][:len(STANDALONE)] if str(d["disposition"]).startswith("stage"))
    assert len(refs) == len(set(refs)) == disputes + 2
    assert refs == [f"{refs[0][:9]}{n:04d}" for n in range(1, len(refs) + 1)]
    assert sum(per_case.values()) == disputes + 4 + 3
    by_id: dict[object, set[tuple[object, object]]] = {}
    for decisions in outputs:
        for d in decisions:
            by_id.setdefault(d["message_id"], set()).add((d["disposition"], d["case_ref"]))
    assert all(len(v) == 1 for v in by_id.values())
    # Messages without a Message-ID are known by a hash of their bytes, which mbox and Maildir
    # store slightly differently (line endings), so those may count once per mailbox.
    assert messages == len(by_id) and len(STANDALONE) + 8 <= messages <= len(STANDALONE) + 10


def test_outbox_lists_given_up_acknowledgements_and_retry_makes_them_due(
        runner: CliRunner, config: Path) -> None:
    from email.message import EmailMessage

    from compact_docs.register.cases import CaseRegister
    from mailflows.config import require_config
    from mailflows.outbox import Outbox

    assert "The outbox is empty." in run(runner, "mail", "outbox", "--config", config)
    out = run(runner, "mail", "retry", "--given-up", "--config", config, code=2)
    assert "no case register at" in out and not (config.parent / "cases.db").exists()
    register = CaseRegister(config.parent / "cases.db", require_config(config).compact_profile)
    outbox = Outbox(register)
    entries = []
    for number, to in enumerate(["jo@agewell.example", "sam@larder.example"], 1):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "disputes@bvsc.example", to, f"Re: dispute {number}"
        message["Message-ID"] = f"<ack-{number}@bvsc.example>"
        message.set_content("Thank you for your message.\n")
        entries.append(outbox.queue(message, None))
    outbox.give_up(entries[0], "550 5.7.1 relaying denied")
    outbox.mark_sent(entries[1])
    register.close()

    listed = json.loads(run(runner, "mail", "outbox", "--json", "--config", config))
    assert [(e["id"], e["state"], e["last_error"]) for e in listed] == \
        [(entries[0].id, "given up", "550 5.7.1 relaying denied")]
    assert listed[0]["recipients"] == ["jo@agewell.example"] and listed[0]["subject"] == "Re: dispute 1"
    text = run(runner, "mail", "outbox", "--all", "--config", config)
    assert "given up" in text and "relaying denied" in text and "sent" in text

    out = run(runner, "mail", "retry", str(entries[1].id), "--config", config, code=2)
    assert "not sent twice" in out and "Traceback" not in out
    assert "name the outbox entries" in run(runner, "mail", "retry", "--config", config, code=2)
    out = run(runner, "mail", "retry", "--given-up", "--config", config)
    assert "1 acknowledgement due again" in out and "jo@agewell.example" in out
    [waiting] = json.loads(run(runner, "mail", "outbox", "--json", "--config", config))
    assert (waiting["state"], waiting["attempts"]) == ("waiting", 0) and waiting["next_attempt"]
    assert "next 20" in run(runner, "mail", "outbox", "--config", config)
    assert "Nothing was given up." in run(runner, "mail", "retry", "--given-up", "--config", config)
