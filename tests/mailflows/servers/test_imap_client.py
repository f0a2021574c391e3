"""FETCH answers read directly: the same result as IMAPClient's own parser, or its parser reads them."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from backlog import realistic_backlog
from imapclient.response_parser import parse_fetch_response
from servers import MailUser

from mailflows.servers.imap_client import fetch, quiet_protocol_log, read_fetch

_DESCRIBED = b'7 (UID 12 RFC822.SIZE 719 FLAGS (\\Recent) INTERNALDATE "30-Nov-2026 15:41:17 +0000")'


def _as_imapclient_reads(lines: list[Any], normalise: bool = True) -> dict[int, dict[bytes, Any]]:
    return dict(parse_fetch_response(lines, normalise, True))


def _answers(client: Any, items: str) -> list[Any]:
    imap = client._imap
    tag = imap._command("UID", "FETCH", "1:*", items)
    typ, lines = imap._command_complete("FETCH", tag)
    return list(imap._untagged_response(typ, lines, "FETCH")[1])


def test_dovecots_answers_read_as_imapclient_reads_them(mail_user: MailUser) -> None:
    with mail_user.connect() as client:
        for _name, raw in realistic_backlog(40, seed=9):
            client.append("INBOX", raw)
        client.select_folder("INBOX")
        client.add_flags([3, 4], [b"\\Flagged", b"$Forwarded", b"NonJunk"])
        for items in ("(RFC822.SIZE FLAGS INTERNALDATE)", "(BODY.PEEK[])", "(BODY.PEEK[HEADER])"):
            lines = _answers(client, items)
            for normalise in (True, False):
                read = read_fetch(lines, normalise)
                assert read is not None, items  # the usual shapes
                assert read == _as_imapclient_reads(lines, normalise)
                assert [list(v) for v in read.values()] == [list(v) for v in _as_imapclient_reads(lines).values()]
        assert read_fetch(_answers(client, "(BODYSTRUCTURE BODY.PEEK[HEADER])")) is None  # left to IMAPClient
        assert fetch(client, [1, 2, 99], ["RFC822.SIZE", "FLAGS", "INTERNALDATE"]) == \
            client.fetch([1, 2, 99], ["RFC822.SIZE", "FLAGS", "INTERNALDATE"])


@pytest.mark.parametrize("line", [
    _DESCRIBED,
    _DESCRIBED.replace(b"719", b"0719"),  # a leading zero: IMAPClient keeps the atom as bytes
    _DESCRIBED.replace(b"(\\Recent)", b"()"),
    _DESCRIBED.replace(b"(\\Recent)", b"(NIL 123 0123 $X \\Seen)"),
    _DESCRIBED.replace(b'"30-Nov-2026 15:41:17 +0000"', b'"garbage"'),  # IMAPClient: None
    _DESCRIBED.replace(b"15:41:17", b" 5:41:17"),
])
def test_unusual_values_are_typed_as_imapclient_types_them(line: bytes) -> None:
    assert read_fetch([line]) == _as_imapclient_reads([line])


@pytest.mark.parametrize("lines", [
    [_DESCRIBED.replace(b"UID 12", b"UID 012")],
    [_DESCRIBED + b" "],
    [_DESCRIBED.replace(b"(\\Recent)", b"(\\Recent  \\Seen)")],
    [b"3 (FLAGS (\\Seen))"],  # another client changed a flag
    [(b"7 (UID 12 BODY[] {6}", b"hello"), b")"],  # shorter than announced (cut by the literal limit)
    [(b"7 (UID 12 BODY[] {5}", b"hello"), b" FLAGS (\\Seen))"],
    [(b"7 (UID 12 BODY[] {5}", b"hello")],  # the closing parenthesis missing
    [None],
])
def test_any_other_answer_is_left_to_imapclient(lines: list[Any]) -> None:
    assert read_fetch(lines) is None


def test_the_protocol_log_is_written_only_when_someone_reads_it(mail_user: MailUser,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    with mail_user.connect() as client:
        quiet_protocol_log(client)
        assert client._imap.debug == 0
    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    with mail_user.connect() as client:
        quiet_protocol_log(client)
        assert client._imap.debug == 5
