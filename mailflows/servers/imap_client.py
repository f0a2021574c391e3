"""FETCH with IMAPClient, the watcher's usual answers (sizes, whole messages, headers) read directly."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from imapclient import IMAPClient
from imapclient.datetime_util import parse_to_datetime
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response
from imapclient.util import to_ints

_DESCRIBED = re.compile(
    rb'([1-9][0-9]*) \(UID ([1-9][0-9]*) RFC822\.SIZE ([0-9]+) '
    rb'FLAGS \(((?:\\?[A-Za-z0-9$_.-]+(?: \\?[A-Za-z0-9$_.-]+)*)?)\) INTERNALDATE "([^"\\\r\n]*)"\)')
"""``* 4 FETCH (UID 9 RFC822.SIZE 719 FLAGS (\\Seen) INTERNALDATE "...")``, as asked for (imap_fetch)."""
_LITERAL = re.compile(rb"([1-9][0-9]*) \(UID ([1-9][0-9]*) (BODY\[(?:HEADER)?\]) \{([0-9]+)\}")
"""``* 4 FETCH (UID 9 BODY[] {719}``, the message (or its header) following as a literal, then ``)``."""


def quiet_protocol_log(client: IMAPClient) -> None:
    """Stop imaplib writing out each line and literal of the session for a debug log that is off.

    IMAPClient sets imaplib's debug level to 5 and sends its messages to the
    ``imapclient.imaplib`` logger, so every line read is formatted (``repr`` of each message
    fetched, whole) before the logger drops it. While that logger is not enabled for DEBUG
    (as it is not unless configured), nothing is lost by not formatting them.
    """
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        imap: Any = client._imap
        imap.debug = 0


def fetch(client: IMAPClient, uids: Sequence[int], items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
    """``client.fetch(uids, items)`` (UID FETCH), with answers of the shapes the watcher asks for
    read by two regular expressions; any other answer is read by IMAPClient's own parser.

    The result is the same either way: the same dictionary, its values typed as IMAPClient types
    them. IMAPClient's general parser reads an answer a character at a time, which costs as
    much as the rest of fetching.
    """
    if not uids or not client.use_uid:
        return dict(client.fetch(uids, items))
    # As IMAPClient.fetch does it, up to reading the answer.
    imap: Any = client._imap
    tag = imap._command("UID", "FETCH", join_message_ids(uids), seq_to_parenstr_upper(items))
    typ, lines = imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, lines)
    typ, lines = imap._untagged_response(typ, lines, "FETCH")
    response = read_fetch(lines, client.normalise_times)
    if response is None:
        response = parse_fetch_response(lines, client.normalise_times, True)
    return {uid: response[uid] for uid in to_ints(uids) if uid in response}


def read_fetch(lines: list[Any], normalise_times: bool = True) -> dict[int, dict[bytes, Any]] | None:
    """IMAPClient's reading (``parse_fetch_response``, by UID) of FETCH answers that all have one of
    the two usual shapes (`_DESCRIBED`, `_LITERAL`); None when any answer has another."""
    found: dict[int, dict[bytes, Any]] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if isinstance(line, bytes):
            described = _DESCRIBED.fullmatch(line)
            if described is None:
                return None
            seq, uid, size, flags, date = described.groups()
            values = {b"SEQ": int(seq), b"RFC822.SIZE": _atom(size),
                      b"FLAGS": tuple(_atom(flag) for flag in flags.split(b" ") if flag),
                      b"INTERNALDATE": _internaldate(date, normalise_times)}
            index += 1
        elif (isinstance(line, tuple) and len(line) == 2 and isinstance(line[0], bytes)
              and isinstance(line[1], bytes) and lines[index + 1:index + 2] == [b")"]):
            literal = _LITERAL.fullmatch(line[0])
            if literal is None or int(literal[4]) != len(line[1]):
                return None
            seq, uid = literal[1], literal[2]
            values = {b"SEQ": int(seq), literal[3]: line[1]}
            index += 2
        else:
            return None
        found.setdefault(int(uid), {}).update(values)
    return found


def _atom(token: bytes) -> Any:
    """An atom as IMAPClient types it: NIL is None, a number without a leading zero an int."""
    if token == b"NIL":
        return None
    if token.isdigit() and (token[:1] != b"0" or len(token) == 1):
        return int(token)
    return token


def _internaldate(text: bytes, normalise_times: bool) -> Any:
    try:
        return parse_to_datetime(text, normalise=normalise_times)
    except ValueError:  # as IMAPClient: a date it cannot read is None
        return None
