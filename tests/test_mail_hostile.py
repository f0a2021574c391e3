"""Hostile mail (issue 12): forged senders, huge headers, backscatter, reused Message-IDs, odd MIME.

The messages are in tests/data/hostile/; the big ones are gzipped (each is about 2 MB, the plain
Subject one 5 MB, when unpacked).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backlog import MAIL
from servers import MailUser, SmtpServer
from test_watch import FOLDERS, run_once, write_config

from compact_docs.register import CaseRegister
from mailflows.acknowledgement import build_acknowledgement
from mailflows.config import require_config
from mailflows.outbox import Outbox, acknowledge, deliver
from mailflows.parsing import parse_message
from mailflows.route import classify, route_message
from mailflows.smtp import SmtpAccount

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
ROOT = Path(__file__).resolve().parent.parent
CONFIG = require_config(MAIL / "compact.toml")
FORGED = ["forged-display-name.eml", "forged-encoded-display-name.eml", "forged-quoted-display-name.eml",
          "forged-base64-display-name.eml", "two-from-headers.eml"]


def clock() -> datetime:
    return datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def register(tmp_path: Path) -> Iterator[CaseRegister]:
    with CaseRegister(tmp_path / "cases.db", CONFIG.compact_profile, clock=clock) as reg:
        yield reg


def hostile(name: str) -> bytes:
    data = (HOSTILE / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


# -- 1: the sender is the address inside <...> -------------------------------------------------

@pytest.mark.parametrize("name", FORGED)
def test_a_forged_from_never_takes_over_a_case(register: CaseRegister, name: str) -> None:
    opened = route_message((MAIL / "threads" / "a1.eml").read_bytes(), CONFIG, register)
    assert (opened.disposition, opened.case_ref) == ("stage-2", "BXC-2026-0001")  # monitoring: stage 2

    raw = hostile(name)
    forged = route_message(raw, CONFIG, register)

    assert (forged.disposition, forged.stage, forged.action, forged.case_ref) == ("needs-triage", None,
                                                                                 "none", None)
    assert not forged.acknowledge and forged.acknowledge_to is None
    assert forged.reasons[-1].startswith("the From header cannot be trusted (")
    assert "names case BXC-2026-0001" in " ".join(forged.reasons)
    case = register.require_case("BXC-2026-0001")
    assert case.stage == 2 and forged.message_id not in case.message_ids
    assert [e.kind for e in register.events(case.ref)] == ["opened"]
    parsed = parse_message(raw)
    assert parsed.sender_doubt
    if name != "two-from-headers.eml":  # the address inside <...>, never the one shown
        assert parsed.from_address == "attacker@evil.example"
    assert build_acknowledgement(forged, parsed, CONFIG) is None
    assert acknowledge(forged, parsed, CONFIG, Outbox(register)) == (None, None)


def test_a_forged_from_gets_no_acknowledgement_from_the_watcher(
    tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer
) -> None:
    mail_user.append((MAIL / "threads" / "a1.eml").read_bytes())
    for name in FORGED[:2]:
        mail_user.append(hostile(name))
    config = require_config(write_config(tmp_path, mail_user, smtp_port=smtp_server.port))

    summary, seen = run_once(config)

    assert [w.decision.disposition for w in seen] == ["stage-2", "needs-triage", "needs-triage"]
    assert summary.acknowledgements_sent == 1
    [ack] = smtp_server.received
    assert ack.rcpt_tos == ["jo.smith@agewell.example"]
    assert mail_user.count(FOLDERS["needs-triage"]) == 2
    with CaseRegister(config.database_path, config.compact_profile) as reg:
        assert reg.require_case("BXC-2026-0001").stage == 2


# -- 2: header values are bounded before parsing -----------------------------------------------

_MEASURE = """
import gzip, json, resource, sys, time
from mailflows.parsing import parse_message
raw = gzip.decompress(open(sys.argv[1], "rb").read())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
parsed = parse_message(raw)
seconds = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"seconds": seconds, "kib": grown, "size": len(raw), "from": parsed.from_address,
                  "doubt": parsed.sender_doubt, "subject": len(parsed.subject), "text": parsed.text[:200],
                  "references": parsed.references[-1:], "problems": parsed.problems}))
"""


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.glob("*.eml.gz")))
def test_any_message_parses_in_bounded_time_and_memory(name: str) -> None:
    # A process of its own, so its peak memory is this message's alone.
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(HOSTILE / name)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout)
    assert result["seconds"] < 2.0, result
    assert result["kib"] < 300 * 1024, result
    if name != "plain-subject-5mb.eml.gz":
        assert result["size"] <= 2.1 * 1024 * 1024
    assert result["subject"] <= 4_000
    if name == "rfc2047-from.eml.gz":  # the address came after the part that was read
        assert result["from"] is None and result["doubt"]
    elif name != "deep-mime-1000.eml.gz":
        assert result["from"] == "jo.smith@agewell.example" and result["doubt"] is None
    if name in ("rfc2047-subject.eml.gz", "plain-subject-5mb.eml.gz", "rfc2047-to.eml.gz"):
        assert any("cut to 8,192" in problem for problem in result["problems"])
    if name == "references-2mb.eml.gz":  # the newest Message-IDs are the ones kept
        assert result["references"] == ["<newest@agewell.example>"]


def test_a_huge_rfc2047_subject_is_read_by_its_start() -> None:
    parsed = parse_message(hostile("rfc2047-subject.eml.gz"))
    assert parsed.subject.startswith("café crèmecafé crème")  # adjacent encoded words join
    assert "Our grant was cut without notice" in parsed.text


# -- 4: backscatter ----------------------------------------------------------------------------

def test_every_recipient_counts_against_the_daily_limit(
    tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer
) -> None:
    original = (MAIL / "messages" / "01-late-payment.eml").read_bytes()
    staff = [b"priya", b"sam", b"alex", b"chris", b"pat", b"lee", b"kim"]
    for number, person in enumerate(staff):  # seven stage-1 disputes, each from another person
        mail_user.append(original.replace(b"priya@", person + b"@")
                         .replace(b"<a1b2c3.", f"<n{number}.".encode())
                         .replace(b"INV-0931", f"INV-09{number}".encode()))
    path = write_config(tmp_path, mail_user, smtp_port=smtp_server.port,
                        watch={"acknowledgements_per_address_per_day": 5})
    path.write_text(path.read_text(encoding="utf-8") + "\n[mail.acknowledgements]\ncopy_commissioner = true\n",
                    encoding="utf-8")
    config = require_config(path)

    summary, seen = run_once(config)

    assert summary.routed == {"stage-1": 7}
    received = smtp_server.received
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(f"{p.decode()}@crayfordlarder.example"
                                                             for p in staff)
    copied = [m for m in received if "commissioning@bexley.example" in m.rcpt_tos]
    assert len(copied) == 5  # the daily limit, for the copied commissioner too
    assert all(m.message["Cc"] is None for m in received if m not in copied)
    assert sum(any("commissioning@bexley.example not copied" in n for n in w.notes) for w in seen) == 2


def test_reply_to_is_honoured_only_inside_the_senders_organisation(register: CaseRegister) -> None:
    inside = classify(parse_message((MAIL / "messages" / "20-reply-to.eml").read_bytes()), CONFIG, register)
    assert inside.acknowledge_to == "ana.ruiz@crayfordlarder.example"

    route_message((MAIL / "threads" / "a1.eml").read_bytes(), CONFIG, register)
    escalation = route_message(hostile("reply-to-elsewhere.eml"), CONFIG, register)
    # (a1 opens at stage 2, the Compact's example for monitoring; "not resolved" does not reach stage 3)
    assert (escalation.disposition, escalation.action) == ("stage-2", "join")
    assert escalation.acknowledge_to == "jo.smith@agewell.example"
    assert ("Reply-To victim@elsewhere.example is not one of Bexley Age Well's addresses: an "
            "acknowledgement would go to the sender, jo.smith@agewell.example") in escalation.reasons
    ack = build_acknowledgement(escalation, parse_message(hostile("reply-to-elsewhere.eml")), CONFIG)
    assert ack is not None and ack["To"] == "jo.smith@agewell.example"

    stranger = (MAIL / "messages" / "16-unknown-sender.eml").read_bytes()
    stranger = stranger.replace(b"\r\nSubject:", b"\r\nReply-To: victim@elsewhere.example\r\nSubject:", 1)
    decision = classify(parse_message(stranger), CONFIG, register)
    assert decision.acknowledge_to == parse_message(stranger).from_address != "victim@elsewhere.example"


# -- 10: a re-delivery is the same Message-ID and the same content -----------------------------

def test_a_second_dispute_reusing_its_senders_message_id_is_routed(register: CaseRegister) -> None:
    first = route_message(hostile("webform-first.eml"), CONFIG, register)
    second = route_message(hostile("webform-second.eml"), CONFIG, register)

    assert (first.disposition, first.case_ref) == ("stage-2", "BXC-2026-0001")
    assert not second.already_recorded
    assert (second.disposition, second.action, second.case_ref) == ("stage-2", "open", "BXC-2026-0002")
    assert second.message_id != first.message_id == "<contact-form@sidcupyoutharts.example>"
    assert second.reasons[0].startswith("Message-ID <contact-form@sidcupyoutharts.example> was already "
                                        "used for a different message")
    assert register.require_case("BXC-2026-0002").topic == "Website form: objection to the new monitoring requirements"
    # Each is recognised when it arrives again, through another relay or not.
    relayed = b"Received: from relay.example by mx.bvsc.example; Thu, 26 Nov 2026 08:00:00 +0000\r\n"
    for raw, case in ((hostile("webform-second.eml"), "BXC-2026-0002"),
                      (relayed + hostile("webform-second.eml"), "BXC-2026-0002"),
                      (relayed + hostile("webform-first.eml"), "BXC-2026-0001")):
        again = route_message(raw, CONFIG, register)
        assert again.already_recorded and again.case_ref == case
    assert len(register.cases()) == 2


# -- 22: deep MIME nesting, non-ASCII addresses ------------------------------------------------

def test_a_thousand_deep_mime_nesting_keeps_the_sender() -> None:
    parsed = parse_message(hostile("deep-mime-1000.eml.gz"))
    assert parsed.from_address == "jo.smith@agewell.example" and parsed.sender_doubt is None
    assert parsed.subject == "Late payment of our grant"
    assert "six weeks late" in parsed.text
    assert "MIME parts nested more than 64 deep" in " ".join(parsed.problems)
    decision = classify(parsed, CONFIG)
    assert (decision.disposition, decision.organisation) == ("stage-1", "Bexley Age Well")


def _acknowledged(register: CaseRegister) -> Outbox:
    raw = hostile("non-ascii-sender.eml")
    decision = route_message(raw, CONFIG, register)
    assert decision.acknowledge_to == "jösé.núñez@agewell.example"
    outbox = Outbox(register)
    queued, _note = acknowledge(decision, parse_message(raw), CONFIG, outbox)
    assert queued is not None
    head = queued.content.split(b"\r\n\r\n", 1)[0]
    assert "To: jösé.núñez@agewell.example\r\n".encode() in head  # RFC 6532, never an encoded word
    assert b"=?" not in head.split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0]
    return outbox


def _account(server: SmtpServer) -> SmtpAccount:
    return SmtpAccount(host="127.0.0.1", port=server.port, security="none", sender="disputes@bvsc.example")


def test_an_acknowledgement_to_a_non_ascii_address_uses_smtputf8(
    register: CaseRegister, start_smtp: Callable[..., SmtpServer]
) -> None:
    server = start_smtp(smtputf8=True)
    outbox = _acknowledged(register)
    assert deliver(outbox, _account(server)).sent == 1
    [mail] = server.received
    assert mail.smtputf8
    assert mail.rcpt_tos == ["jösé.núñez@agewell.example"]
    assert str(mail.message["To"]) == "jösé.núñez@agewell.example"
    assert "To: jösé.núñez@agewell.example\r\n".encode() in mail.raw


def test_an_acknowledgement_to_a_non_ascii_address_is_refused_without_smtputf8(
    register: CaseRegister, smtp_server: SmtpServer
) -> None:
    outbox = _acknowledged(register)
    delivery = deliver(outbox, _account(smtp_server))
    assert (delivery.sent, delivery.given_up) == (0, 1)
    assert smtp_server.received == []
    [entry] = outbox.given_up()
    assert entry.last_error is not None
    assert "does not offer SMTPUTF8" in entry.last_error and "jösé.núñez@agewell.example" in entry.last_error
