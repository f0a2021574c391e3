"""The caseworker's commands: triage, open, attach, restage, merge, reopen, note, assign, overdue, and
escalate / close telling the organisation, with --config on either side, --json, --by and --reason."""

from __future__ import annotations

import json
import mailbox
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from servers import SmtpServer

from cli import cli
from mailflows.config import CONFIG_ENV

MAIL = Path(__file__).resolve().parent / "data" / "mail"
QUESTION = "<tr-001@belvedereshed.example>"
FORWARDED = "<rp-555@webmail.example>"  # an unknown sender's dispute (16-unknown-sender.eml)


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "login-name")
    monkeypatch.setenv("LOGNAME", "login-name")


def run(*args: str | Path, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def as_json(*args: str | Path) -> Any:
    return json.loads(run(*args, "--json"))


@pytest.fixture
def config(tmp_path: Path, smtp_server: SmtpServer) -> Path:
    text = (MAIL / "compact.toml").read_text(encoding="utf-8").replace("port = 2525", f"port = {smtp_server.port}")
    path = tmp_path / "compact.toml"
    path.write_text(text, encoding="utf-8")
    box = mailbox.mbox(tmp_path / "in.mbox")
    for name in ("messages/01-late-payment.eml", "messages/35-question.eml", "messages/16-unknown-sender.eml",
                 "messages/14-not-commissioned-objection.eml"):
        box.add((MAIL / name).read_bytes())
    box.close()
    run("mail", "route", "--mbox", tmp_path / "in.mbox", "--config", path)
    return path


def refs(config: Path) -> list[str]:
    return [c["ref"] for c in as_json("cases", "list", "--config", config)]


def test_cases_list_json_has_owner_dates_and_deadlines(config: Path) -> None:
    listed = as_json("cases", "list", "--config", config)
    first = listed[0]
    assert {"owner", "received", "stage_since", "due", "overdue"} <= set(first)
    assert first["received"] == "2026-11-17T09:14:03+00:00" and first["owner"] is None
    assert first["stage_since"] == first["received"]
    assert first["due"] == "2026-12-01"  # 10 working days after Tue 17 November 2026
    assert isinstance(first["overdue"], bool)
    text = run("cases", "list", "--config", config)
    assert "received 2026-11-17" in text and "due 2026-12-01" in text


def test_triage_then_open_from_the_queue_with_config_on_either_side(config: Path) -> None:
    waiting = as_json("cases", "triage", "--config", config)
    assert [m["message_id"] for m in waiting] == [QUESTION]
    assert waiting[0]["reasons"] and waiting[0]["received"] == "2026-11-17T19:20:00+00:00"
    assert QUESTION in run("cases", "--config", config, "triage")

    out = run("cases", "--config", config, "open", QUESTION, "--organisation", "Belvedere Men's Shed",
              "--not-commissioned", "--reason", "A notice question that is really a dispute")
    assert re.fullmatch(r"BXC-2026-\d{4} opened at stage 2 for Belvedere Men's Shed\.\n", out)
    assert run("cases", "triage", "--config", config).strip() == "Nothing waits for triage."
    ref = out.split()[0]
    shown = as_json("cases", "show", ref, "--config", config)
    assert [(e["kind"], e["by"]) for e in shown["events"]] == [("opened", "login-name"), ("correction", "login-name")]
    assert shown["events"][1]["disposition"] == "stage-2" and shown["events"][1]["previous"] == "needs-triage"
    assert shown["events"][1]["reason"] == "A notice question that is really a dispute"


def test_restage_merge_note_assign_reopen_are_recorded_with_who_and_why(config: Path) -> None:
    late, forwarded, hall = refs(config)
    case = as_json("cases", "restage", hall, "--stage", "3", "--reason", "A policy on hall charges",
                   "--by", "Sam", "--config", config)
    assert case["stage"] == 3
    out = run("cases", "restage", hall, "--stage", "3", "--reason", "again", "--config", config, code=2)
    assert "already at stage 3" in out
    run("cases", "restage", hall, "--stage", "2", "--config", config, code=2)  # --reason is required

    merged = as_json("cases", "merge", forwarded, "--into", late, "--reason", "The commissioner forwarded it",
                     "--by", "Sam", "--config", config)
    assert FORWARDED in merged["message_ids"] and merged["ref"] == late
    gone = as_json("cases", "show", forwarded, "--config", config)
    assert gone["status"] == "closed" and gone["merged_into"] == late

    run("cases", "note", late, "Rang Priya: finance has the invoice", "--by", "Ana", "--config", config)
    assert "assigned to Ana" in run("cases", "--config", config, "assign", late, "Ana")
    run("cases", "close", late, "--outcome", "Paid", "--quiet", "--config", config)
    assert as_json("cases", "reopen", late, "--reason", "Paid short", "--config", config)["status"] == "open"
    events = as_json("cases", "show", late, "--config", config)["events"]
    assert [(e["kind"], e["by"]) for e in events[-5:]] == [
        ("merged", "Sam"), ("note", "Ana"), ("assigned", "login-name"), ("closed", "login-name"),
        ("reopened", "login-name")]
    assert events[-4]["text"] == "Rang Priya: finance has the invoice"
    assert as_json("cases", "list", "--config", config)[0]["owner"] == "Ana"


def test_attach_a_waiting_message_to_a_case(config: Path) -> None:
    late = refs(config)[0]
    case = as_json("cases", "attach", QUESTION, late, "--reason", "Same organisation, same invoice",
                   "--config", config)
    assert QUESTION in case["message_ids"]
    out = run("cases", "attach", QUESTION, late, "--reason", "twice", "--config", config, code=2)
    assert "already on case" in out


def test_overdue_lists_cases_past_their_working_day_deadline(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    # The mail is from 17 November 2026: one working day at a stage is long past, whatever today is.
    config.write_text(text + "\n[cases.deadlines]\nstage-1 = 1\nstage-2 = 1\n", encoding="utf-8")
    late = as_json("cases", "overdue", "--config", config)
    assert [c["ref"] for c in late] == refs(config) and all(c["overdue"] for c in late)
    assert late[0]["due"] == "2026-11-18" and late[0]["working_days_over"] >= 1
    assert "working day(s) over" in run("cases", "overdue", "--config", config)
    config.write_text(text + "\n[cases.deadlines]\nstage-1 = 5000\nstage-2 = 5000\n", encoding="utf-8")
    assert as_json("cases", "overdue", "--config", config) == []
    assert run("cases", "overdue", "--config", config).strip() == "No case is overdue."


def test_escalate_and_close_tell_the_organisation_and_print_the_next_step(
    config: Path, smtp_server: SmtpServer
) -> None:
    late = refs(config)[0]
    out = run("cases", "escalate", late, "--reason", "The commissioner has not replied", "--config", config)
    lines = out.splitlines()
    assert lines[0].startswith(f"{late} is now at stage 2, ")
    assert lines[1] == "Acknowledgement sent to priya@crayfordlarder.example."
    assert lines[2] == f"Next: make the stage-2 letter: compact-docs cases letter {late}"
    (sent,) = smtp_server.received
    message = sent.message
    assert message["To"] == "priya@crayfordlarder.example" and message["Cc"] is None
    assert f"[{late}]" in message["Subject"] and message["Auto-Submitted"] == "auto-generated"
    assert "has moved to stage 2" in message.get_content()
    assert message["In-Reply-To"] == "<a1b2c3.priya@crayfordlarder.example>"

    out = run("cases", "close", late, "--outcome", "Invoice paid on 2 December", "--config", config)
    assert "Acknowledgement sent to priya@crayfordlarder.example." in out
    assert "Outcome: Invoice paid on 2 December." in smtp_server.received[-1].message.get_content()

    hall = refs(config)[2]
    out = run("cases", "escalate", hall, "--reason", "Policy", "--quiet", "--config", config)
    assert "No acknowledgement (--quiet)." in out and len(smtp_server.received) == 2
    run("cases", "reopen", late, "--reason", "Paid short", "--config", config)
    result = CliRunner().invoke(cli, ["cases", "escalate", late, "--reason", "Still short", "--json",
                                      "--config", str(config)])
    assert result.exit_code == 0 and json.loads(result.stdout)["stage"] == 3  # JSON alone on stdout
    assert "Next: make the stage-3 letter" in result.stderr and len(smtp_server.received) == 3


def test_restage_can_put_right_whose_case_it_is(config: Path) -> None:
    # (A forward is decided on its original sender now; an unknown sender's case stands in.)
    forwarded = refs(config)[1]
    case = as_json("cases", "restage", forwarded, "--organisation", "Crayford Community Larder",
                   "--reason", "R. Patel is Crayford Larder's treasurer", "--config", config)
    assert case["organisation"] == "Crayford Community Larder" and case["commissioned"] is True  # from the directory
    last = as_json("cases", "show", forwarded, "--config", config)["events"][-1]
    assert last["kind"] == "correction" and last["reason"].startswith(
        "organisation unknown (rpatel1961@webmail.example) -> Crayford Community Larder")
    run("cases", "restage", forwarded, "--reason", "nothing to do", "--config", config, code=2)


def test_case_letter_refuses_closed_cases_and_unknown_organisations_unless_told(
    config: Path, tmp_path: Path
) -> None:
    late, forwarded, _hall = refs(config)
    case = as_json("cases", "show", forwarded, "--config", config)
    assert case["organisation"] is None
    out = run("cases", "letter", forwarded, "-o", tmp_path / "l", "--format", "docx", "--config", config, code=2)
    assert "unknown organisation" in out and "--organisation" in out
    out = run("cases", "letter", forwarded, "-o", tmp_path / "l", "--format", "docx",
              "--organisation", "Crayford Larder", "--config", config)
    assert Path(out.splitlines()[0]).is_file()

    run("cases", "close", late, "--outcome", "Paid", "--quiet", "--config", config)
    out = run("cases", "letter", late, "-o", tmp_path / "l", "--format", "docx", "--config", config, code=2)
    assert "is closed" in out and "--force" in out
    out = run("cases", "letter", late, "-o", tmp_path / "l", "--format", "docx", "--force", "--config", config)
    assert Path(out.splitlines()[0]).is_file()
