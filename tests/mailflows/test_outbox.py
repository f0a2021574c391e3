"""Acknowledgements: queued with the routing, sent over real SMTP, limited per address, retried."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from servers import MailUser, free_port
from smtp_server import SmtpServer
from testdata import MAIL, Clock
from watching import run_once, write_config

from compact_docs.errors import MailError
from compact_docs.register.cases import CaseRegister
from mailflows.config import require_config
from mailflows.outbox import (
    ATTEMPTS_BEFORE_GIVING_UP,
    CLAIM_FOR,
    LONGEST_RETRY,
    Outbox,
    QueuedAcknowledgement,
    deliver,
)
from mailflows.servers.smtp import SmtpAccount

THREADS = MAIL / "threads"
MESSAGES = MAIL / "messages"


def test_the_commissioner_is_copied_at_stage_1_only_when_the_configuration_opts_in(
    tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer
) -> None:
    _append(mail_user, MESSAGES / "01-late-payment.eml", THREADS / "c1.eml")
    path = write_config(tmp_path, mail_user, smtp_port=smtp_server.port)
    path.write_text(path.read_text(encoding="utf-8") + "\n[mail.acknowledgements]\ncopy_commissioner = true\n",
                    encoding="utf-8")
    config = require_config(path)
    assert config.mail.acknowledgements.copy_commissioner

    _summary, seen = run_once(config)

    by_reply = {m.message["In-Reply-To"]: m for m in smtp_server.received}
    stages = {w.decision.stage for w in seen}
    assert 1 in stages
    for watched in seen:
        mail = by_reply[watched.decision.message_id]
        entry = config.organisation_named(watched.decision.organisation)
        if watched.decision.stage == 1:
            assert entry is not None and entry.commissioner
            assert mail.message["Cc"] == entry.commissioner and entry.commissioner in mail.rcpt_tos
        else:
            assert mail.message["Cc"] is None


def _append(user: MailUser, *paths: Path) -> None:
    for path in paths:
        user.append(path.read_bytes())


def test_acknowledgements_for_new_cases_and_escalations_only(
    tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer
) -> None:
    _append(mail_user, *(THREADS / f"a{n}.eml" for n in range(1, 5)),
            *(THREADS / f"c{n}.eml" for n in range(1, 5)),
            MESSAGES / "01-late-payment.eml", MESSAGES / "21-auto-submitted-ooo.eml",
            MESSAGES / "26-mailing-list.eml", MESSAGES / "24-bounce-dsn.eml")
    config = require_config(write_config(tmp_path, mail_user, smtp_port=smtp_server.port))

    summary, seen = run_once(config)

    # a1 opens (at stage 2: monitoring), a3 escalates (a2 and a4 join: only a policy decision
    # reaches stage 3); c1 opens, c2 escalates (c3 joins, c4 is an auto-reply); 01 opens.
    # Automatic mail gets nothing.
    acknowledged = [w for w in seen if w.decision.action in ("open", "escalate")]
    assert len(acknowledged) == 5
    assert summary.acknowledgements_queued == summary.acknowledgements_sent == 5
    received = smtp_server.received
    assert len(received) == 5
    automatic = {"ooo", "list", "mailer-daemon", "postmaster", "noreply", "no-reply"}
    for mail in received:
        message = mail.message
        assert message["Auto-Submitted"] == "auto-replied"
        assert message["From"] == "disputes@bvsc.example"
        assert mail.mail_from in ("", "<>")  # a null return path: bounces never loop back
        assert not any(part in mail.rcpt_tos[0] for part in automatic)
    by_reply = {m.message["In-Reply-To"]: m for m in received}
    for watched in acknowledged:
        mail = by_reply[watched.decision.message_id]
        assert f"[{watched.decision.case_ref}]" in mail.message["Subject"]
        # The commissioner is never copied unless the configuration opts in (see below).
        assert mail.message["Cc"] is None
    # Each acknowledgement's Message-ID is on its case, so replies to it thread.
    with sqlite3.connect(config.database_path) as conn:
        outgoing = {row[0]: row[1] for row in conn.execute(
            "SELECT message_id, ref FROM case_messages WHERE direction = 'out'")}
    for mail in received:
        assert str(mail.message["Message-ID"]) in outgoing

    # Nothing is sent twice: a second run finds nothing new.
    run_once(config)
    assert len(smtp_server.received) == 5


def test_the_daily_limit_per_address(tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer) -> None:
    original = (MESSAGES / "01-late-payment.eml").read_bytes()
    for number in range(4):  # four separate disputes from one person on one day
        mail_user.append(original.replace(b"<a1b2c3.", f"<n{number}.".encode())
                         .replace(b"Invoice INV-0931", f"Invoice INV-09{number}".encode()))
    config = require_config(write_config(tmp_path, mail_user, smtp_port=smtp_server.port,
                                         watch={"acknowledgements_per_address_per_day": 2}))
    summary, seen = run_once(config)
    assert sum(summary.routed.values()) == 4
    assert len(smtp_server.received) == 2
    assert sum(any("daily limit" in note for note in w.notes) for w in seen) == 2


def test_smtp_down_queues_then_a_later_run_sends(
    tmp_path: Path, mail_user: MailUser, start_smtp: Callable[..., SmtpServer]
) -> None:
    _append(mail_user, MESSAGES / "01-late-payment.eml", MESSAGES / "10-already-raised.eml")
    nothing_there = free_port()
    config = require_config(write_config(tmp_path, mail_user, smtp_port=nothing_there,
                                         watch={"acknowledgement_retry_minutes": 0.001}))
    summary, seen = run_once(config)
    # Routing went on regardless: both messages filed, both acknowledgements waiting.
    assert mail_user.count("INBOX") == 0
    assert summary.acknowledgements_queued == 2 and summary.acknowledgements_waiting == 2
    with sqlite3.connect(config.database_path) as conn:
        errors = [row[0] for row in conn.execute("SELECT last_error FROM outbox")]
    assert all(error and "connect" in error for error in errors)

    server = start_smtp()
    config = require_config(write_config(tmp_path, mail_user, smtp_port=server.port,
                                         watch={"acknowledgement_retry_minutes": 0.001}))
    summary, seen = run_once(config)
    assert seen == []
    assert summary.acknowledgements_sent == 2 and summary.acknowledgements_waiting == 0
    assert sorted(m.message["In-Reply-To"] for m in server.received) == sorted(
        ["<a1b2c3.priya@crayfordlarder.example>", "<CAF3x9Qm4@mail.agewell.example>"])


def _acknowledgement(to: str, number: int, cc: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "disputes@bvsc.example"
    message["To"] = to
    if cc is not None:
        message["Cc"] = cc
    message["Subject"] = f"Re: dispute {number}"
    message["Message-ID"] = f"<ack-{number}@bvsc.example>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("Thank you for your message.\n")
    return message


def _queue(outbox: Outbox, *recipients: str) -> list[QueuedAcknowledgement]:
    """An acknowledgement to each recipient queued, numbered from 1: <ack-1@bvsc.example>, ..."""
    return [outbox.queue(_acknowledgement(to, number), None) for number, to in enumerate(recipients, start=1)]


@pytest.fixture
def outbox(register: CaseRegister) -> Outbox:
    """An outbox in the `register` fixture's case register (moved on by the `clock` fixture)."""
    return Outbox(register, daily_limit=2, retry_after=timedelta(minutes=5))


@pytest.fixture
def account(smtp_server: SmtpServer) -> SmtpAccount:
    """The account of the `smtp_server` fixture, without TLS or a login."""
    return _account(smtp_server.port)


def _account(port: int) -> SmtpAccount:
    return SmtpAccount(host="127.0.0.1", port=port, security="none", sender="disputes@bvsc.example")


def test_the_limit_counts_per_day_and_failures_wait_longer(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    _queue(outbox, "Jo@AgeWell.example", "jo@agewell.example")
    assert outbox.queued_today("jo@agewell.example") == 2
    clock.now += timedelta(days=1)
    assert outbox.queued_today("jo@agewell.example") == 0

    down = _account(free_port())
    assert deliver(outbox, down).failed == 2
    assert outbox.due() == []  # waiting five minutes
    clock.now += timedelta(minutes=5)
    assert len(outbox.due()) == 2
    deliver(outbox, down)
    clock.now += timedelta(minutes=9)
    assert outbox.due() == []  # the second wait is ten minutes
    clock.now += timedelta(minutes=1)
    delivery = deliver(outbox, account)
    assert (delivery.sent, delivery.waiting) == (2, 0)
    assert [m.message["Message-ID"] for m in smtp_server.received] == ["<ack-1@bvsc.example>",
                                                                       "<ack-2@bvsc.example>"]
    assert all(q.sent and q.attempts == 3 for q in map(outbox.by_message_id,
                                                        ["<ack-1@bvsc.example>", "<ack-2@bvsc.example>"])
               if q is not None)


def test_one_refused_recipient_still_counts_as_sent(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.refuse({"nobody@bexley.example": "550 5.1.1 no such user"})
    outbox.queue(_acknowledgement("jo@agewell.example", 1, cc="nobody@bexley.example"), None)
    deliveries = []
    for _round in range(3):
        deliveries.append(deliver(outbox, account))
        clock.now += LONGEST_RETRY
    assert [(d.sent, d.failed, d.waiting) for d in deliveries] == [(1, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert [m.rcpt_tos for m in smtp_server.received] == [["jo@agewell.example"]]  # once, not again
    queued = outbox.by_message_id("<ack-1@bvsc.example>")
    assert queued is not None and queued.sent and queued.given_up is None
    assert queued.refused == ("nobody@bexley.example",)
    assert queued.last_error == "refused nobody@bexley.example: 550 5.1.1 no such user"
    assert "refused nobody@bexley.example (550 5.1.1 no such user)" in caplog.text


def test_a_permanent_refusal_is_given_up_at_once(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    smtp_server.refuse({"gone@agewell.example": "550 5.1.1 no such user"})
    _queue(outbox, "gone@agewell.example", "jo@agewell.example")
    delivery = deliver(outbox, account)
    assert (delivery.sent, delivery.failed, delivery.given_up, delivery.waiting) == (1, 0, 1, 0)
    clock.now += timedelta(days=2)
    assert outbox.due() == [] and deliver(outbox, account).sent == 0
    [given_up] = outbox.given_up()
    assert given_up.message_id == "<ack-1@bvsc.example>" and given_up.attempts == 1
    assert given_up.given_up and given_up.sent is None
    assert given_up.last_error and "gone@agewell.example (550 5.1.1 no such user)" in given_up.last_error
    assert [m.rcpt_tos for m in smtp_server.received] == [["jo@agewell.example"]]


def test_a_refusal_for_now_is_retried_then_given_up(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    smtp_server.refuse({"full@agewell.example": "452 4.2.2 mailbox full"})
    _queue(outbox, "full@agewell.example")
    rounds = []
    while outbox.waiting():
        rounds.append(deliver(outbox, account))
        clock.now += LONGEST_RETRY
    assert [(d.failed, d.given_up) for d in rounds] == \
        [(1, 0)] * (ATTEMPTS_BEFORE_GIVING_UP - 1) + [(0, 1)]
    [given_up] = outbox.given_up()
    assert given_up.attempts == ATTEMPTS_BEFORE_GIVING_UP and "452" in (given_up.last_error or "")
    assert smtp_server.received == []


def test_a_given_up_acknowledgement_is_listed_and_sent_when_retried(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    smtp_server.refuse({"jo@agewell.example": "550 5.7.1 relaying denied"})
    _queue(outbox, "jo@agewell.example", "sam@larder.example")
    deliver(outbox, account)
    [given_up] = outbox.entries()
    assert given_up.state == "given up" and given_up.to_dict()["subject"] == "Re: dispute 1"
    assert [e.state for e in outbox.entries(include_sent=True)] == ["given up", "sent"]

    smtp_server.refuse({})  # the relay is mended
    clock.now += timedelta(minutes=1)
    assert outbox.retry() == []  # nothing named, nothing retried
    [due] = outbox.retry(every_given_up=True)
    assert (due.state, due.attempts, due.last_error) == ("waiting", 0, given_up.last_error)
    assert outbox.due() == [due]
    delivery = deliver(outbox, account)
    assert (delivery.sent, delivery.given_up) == (1, 0)
    assert outbox.entries() == [] and outbox.retry(every_given_up=True) == []
    assert [m.rcpt_tos for m in smtp_server.received] == [["sam@larder.example"], ["jo@agewell.example"]]


def test_a_sent_or_unknown_acknowledgement_is_not_retried(outbox: Outbox) -> None:
    sent, waiting = _queue(outbox, "jo@agewell.example", "sam@larder.example")
    outbox.mark_sent(sent)
    with pytest.raises(MailError, match=r"was sent at .*not sent twice"):
        outbox.retry([sent.id])
    with pytest.raises(MailError, match="no acknowledgement 99"):
        outbox.retry([99])
    with pytest.raises(MailError, match="is not given up: the watcher tries it again from"):
        outbox.retry([waiting.id])  # it may be being sent right now: its time is left alone
    outbox.give_up(waiting, "550 5.7.1 relaying denied")
    assert [e.id for e in outbox.retry([waiting.id])] == [waiting.id]


def test_an_acknowledgement_is_claimed_before_it_is_sent(
    outbox: Outbox, clock: Clock, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    [queued] = _queue(outbox, "jo@agewell.example")
    assert outbox.claim(queued)
    assert not outbox.claim(queued)  # a second watcher delivering at the same moment leaves it
    assert deliver(outbox, account).sent == 0 and smtp_server.received == []
    clock.now += CLAIM_FOR  # the claimer stopped before noting the result: tried again now
    assert deliver(outbox, account).sent == 1
    assert not outbox.claim(queued)
    with pytest.raises(MailError, match="not both"):
        outbox.retry([queued.id], every_given_up=True)


def test_a_partly_sent_acknowledgement_is_listed_but_never_retried(
    outbox: Outbox, smtp_server: SmtpServer, account: SmtpAccount
) -> None:
    smtp_server.refuse({"nobody@bexley.example": "550 5.1.1 no such user"})
    queued = outbox.queue(_acknowledgement("jo@agewell.example", 1, cc="nobody@bexley.example"), None)
    deliver(outbox, account)
    [listed] = outbox.entries()
    assert listed.state == "partly sent" and listed.to_dict()["refused"] == ["nobody@bexley.example"]
    with pytest.raises(MailError, match=r"refused nobody@bexley.example\); it is not sent twice"):
        outbox.retry([queued.id])

