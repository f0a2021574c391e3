"""Fetching messages in batches: whole when small, header and text start when large, aside when unreadable."""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from imapclient import IMAPClient

from mailflows.servers.imap_responses import (
    SIZE_MARGIN,
    FetchedMessage,
    TextPart,
    allowed_size,
    declared_size,
    fetch_chunks,
    fetched_flags,
    fetched_internaldate,
    fetched_size,
    first_text_part,
    stand_in,
)

if TYPE_CHECKING:
    from mailflows.servers.imap import ImapConnection

MAX_SKIPPED = 256 * 1024 * 1024
"""Bytes of an oversized item read past (and dropped) before hanging up."""
_UID_IN_LINE = re.compile(rb"\bUID (\d+)")


class LiteralLimit:
    """At most ``limit`` bytes kept of any literal (RFC 3501 section 4.3) the server sends.

    imaplib reads a literal whole, whatever size the server announces; past the limit the rest
    is read in small pieces and dropped, so the session stays in step and memory stays bounded
    (IMAPClient then refuses the answer, and ``fetch_items`` sets the message aside). An item
    over MAX_SKIPPED beyond the limit ends the session instead. ``cut`` maps the UID (if the
    line announcing the literal names one) to the size of each literal cut short.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cut: dict[int | None, int] = {}

    @classmethod
    def install(cls, client: IMAPClient, limit: int) -> LiteralLimit:
        """Bound every literal read by this client's imaplib connection from now on."""
        bound = cls(limit)
        imap = getattr(client, "_imap", None)
        read = getattr(imap, "read", None)
        if imap is None or read is None:
            return bound

        def bounded_read(size: int) -> bytes:
            if size <= bound.limit:
                return bytes(read(size))
            # imaplib matched the line announcing the literal just now: whose it is, if it says.
            line = getattr(getattr(imap, "mo", None), "string", b"")
            found = _UID_IN_LINE.search(line) if isinstance(line, bytes) else None
            bound.cut[int(found.group(1)) if found else None] = size
            return bound.read_past(read, size)

        imap.read = bounded_read
        return bound

    def read_past(self, read: Any, size: int) -> bytes:
        """The first ``limit`` bytes of a literal of ``size``; the rest read and dropped."""
        if size - self.limit > MAX_SKIPPED:
            raise imaplib.IMAP4.abort(f"the server sent a {size:,}-byte item where at most "
                                      f"{self.limit:,} were expected")
        kept = bytes(read(self.limit))
        left = size - self.limit
        while left:
            skipped = read(min(left, 64 * 1024))
            if not skipped:
                raise imaplib.IMAP4.abort("the server closed the connection")
            left -= len(skipped)
        return kept

    @contextmanager
    def up_to(self, limit: int) -> Iterator[None]:
        """While inside, keep at most ``limit`` bytes of each literal."""
        previous, self.limit = self.limit, max(limit, 1)
        try:
            yield
        finally:
            self.limit = previous


def fetch_messages(connection: ImapConnection, uids: Sequence[int], *, batch_size: int, size_cap: int,
                   text_cap: int, batch_bytes: int) -> Iterator[FetchedMessage]:
    """`ImapConnection.fetch_messages`: sizes first, then each chunk of at most ``batch_bytes``."""
    ordered = sorted(dict.fromkeys(uids))
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        described, unreadable = connection.fetch_items(batch, ["RFC822.SIZE", "FLAGS", "INTERNALDATE"],
                                                       "reading message sizes", size_cap + SIZE_MARGIN)
        for uid, item in described.items():
            if declared_size(item) is None:
                unreadable[uid] = "the server gave no usable RFC822.SIZE"
        present = [uid for uid in batch if uid in described and uid not in unreadable]
        listed = {uid: described.get(uid, {}) for uid in batch if uid in described or uid in unreadable}
        # Chunks in UID order, each at most about batch_bytes, yielded before the next.
        for chunk in fetch_chunks(list(listed), listed, size_cap, text_cap, batch_bytes):
            found: dict[int, FetchedMessage] = {}
            small = [uid for uid in chunk if uid in present and fetched_size(described[uid]) <= size_cap]
            large = [uid for uid in chunk if uid in present and fetched_size(described[uid]) > size_cap]
            if small:
                found.update(_fetch_whole(connection, small, described, unreadable))
            if large:
                for message in _fetch_truncated(connection, large, described, text_cap, size_cap, unreadable):
                    found[message.uid] = message
            for uid in chunk:
                if uid in unreadable:
                    yield FetchedMessage(uid, fetched_size(listed[uid]), b"", fetched_flags(listed[uid]),
                                         internaldate=fetched_internaldate(listed[uid]),
                                         unreadable=unreadable[uid])
                elif uid in found:
                    yield found.pop(uid)


def _fetch_whole(connection: ImapConnection, uids: list[int], described: dict[int, Any],
                 unreadable: dict[int, str]) -> dict[int, FetchedMessage]:
    """Fetch messages whole; one longer than its declared size (plus a margin) is set aside."""
    allowed = {uid: allowed_size(fetched_size(described[uid])) for uid in uids}
    bodies, bad = connection.fetch_items(uids, ["BODY.PEEK[]"], "fetching messages", max(allowed.values()) + 1,
                                         {uid: fetched_size(described[uid]) for uid in uids})
    unreadable.update(bad)
    found: dict[int, FetchedMessage] = {}
    for uid, data in bodies.items():
        body = data.get(b"BODY[]") if uid in allowed else None
        if body is None:
            continue
        if len(body) > allowed[uid]:
            unreadable[uid] = (f"the server declared {fetched_size(described[uid]):,} bytes but sent more "
                               f"than {allowed[uid]:,}")
            continue
        found[uid] = FetchedMessage(uid, fetched_size(described[uid]), bytes(body), fetched_flags(described[uid]),
                                    internaldate=fetched_internaldate(described[uid]))
    return found


def _fetch_truncated(connection: ImapConnection, uids: list[int], described: dict[int, Any], text_cap: int,
                     size_cap: int, unreadable: dict[int, str]) -> Iterator[FetchedMessage]:
    """Messages over the size cap as their header and the start of their first text part."""
    heads, bad = connection.fetch_items(uids, ["BODYSTRUCTURE", "BODY.PEEK[HEADER]"],
                                        "fetching message headers", size_cap + SIZE_MARGIN)
    unreadable.update(bad)
    by_section: dict[str, list[int]] = {}
    parts: dict[int, TextPart | None] = {}
    for uid in uids:
        if uid not in heads:
            continue
        parts[uid] = first_text_part(heads[uid].get(b"BODYSTRUCTURE"))
        part = parts[uid]
        if part is not None:
            by_section.setdefault(part.section, []).append(uid)
    texts: dict[int, bytes] = {}
    for section, group in by_section.items():
        fetched, bad = connection.fetch_items(group, [f"BODY.PEEK[{section}]<0.{text_cap}>"],
                                              "fetching the start of message texts", text_cap + SIZE_MARGIN)
        unreadable.update(bad)
        key = f"BODY[{section}]<0>".encode()
        for uid, data in fetched.items():
            if key in data and data[key] is not None:
                texts[uid] = bytes(data[key])
    for uid, part in parts.items():
        if uid in unreadable:
            continue
        raw = stand_in(bytes(heads[uid].get(b"BODY[HEADER]") or b""), part, texts.get(uid, b""))
        yield FetchedMessage(uid, fetched_size(described[uid]), raw, fetched_flags(described[uid]), truncated=True,
                             internaldate=fetched_internaldate(described[uid]))
