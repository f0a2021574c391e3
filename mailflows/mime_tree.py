"""A message's MIME tree read within bounds: header values cut before parsing, parts and nesting counted."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.feedparser import FeedParser
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32, EmailPolicy
from typing import TYPE_CHECKING, Any

from compact_docs.errors import TooManyMimeParts as _TooManyParts  # defined in errors.py; its old name here
from mailflows.mime_headers import PLAIN_MIME_HEADERS, plain_mime_header

MAX_HEADER_VALUE_CHARS = 8_192
"""How much of one header's raw value is read at all: the email package's header parsers take
time and memory that grow with the square of a value's length (RFC 2047 words, long phrases)."""
MAX_MIME_PARTS = 1_000
"""A message of more parts is read as its header and a plain-text body: each part costs time."""
MAX_MIME_DEPTH = 64
"""Nor are MIME parts nested deeper than this read: every line is checked against each level."""
KEEP_END = frozenset({"references", "in-reply-to"})  # the newest Message-IDs come last
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


def bound_header_value(name: str, value: str, limit: int = MAX_HEADER_VALUE_CHARS) -> str:
    """A raw header value cut to ``limit`` characters, before anything parses it.

    The start is kept (an RFC 2047 word cut in two is dropped whole), except for References
    and In-Reply-To, whose newest Message-IDs are at the end.
    """
    if len(value) <= limit:
        return value
    notes: list[str] | None = getattr(_headers_seen, "cut", None)
    if notes is not None:
        notes.append(f"header {name}: {len(value):,} characters, cut to {limit:,} before it was read")
    if name.lower() in KEEP_END:
        tail = value[-limit:]
        start = tail.find("<")
        return tail[start:] if start >= 0 else tail
    head = value[:limit]
    start = head.rfind("=?")
    if start >= 0 and not _ENCODED_WORD.match(head, start):
        head = head[:start]
    return head.rstrip("\r\n")


class _HeaderClasses(HeaderRegistry):
    """email's header registry, making each header class once rather than once per header parsed.

    HeaderRegistry builds a new class (``type(...)``) for every header it parses, which costs
    as much as parsing a short header; the classes it builds for one kind of header are all alike.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


class _RememberingPolicy(EmailPolicy):
    """email.policy.default, except that a header value is parsed only once per message.

    The default policy builds a new parsed header object on every access, and the parser itself
    asks for each part's Content-Type several times; remembering them (per message, per thread)
    makes parsing about three times faster with exactly the same results.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, bound_header_value(name, value)

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        return parsed_header(name, without_line_ends(value))  # as EmailPolicy does


class _BoundedCompat32(Compat32):
    """email.policy.compat32 (the fallback parser's policy), with header values bounded too."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, bound_header_value(name, value)


_headers_seen = threading.local()
_HEADER_CLASSES = _HeaderClasses()
_POLICY = _RememberingPolicy(header_factory=_HEADER_CLASSES)
_COMPAT32 = _BoundedCompat32()
_LINE_END = re.compile(r"\n|\r")  # email.policy's linesep_splitter


def without_line_ends(value: str) -> str:
    """A header value as email.policy hands it to the header registry: without CR and LF."""
    return "".join(_LINE_END.split(value))


def parsed_header(name: str, value: str) -> Any:
    """``email.policy.default.header_factory(name, value)``: the parsed header object.

    While one message is read (`reading_one_message`) each (name, value) is parsed only once:
    the parser, the body reader and the sender check all ask for the same few headers, and the
    header registry is the most expensive part of reading a message. The factory is a pure
    function of the name (its case aside) and the value, so the result is the same.
    """
    remembered: dict[tuple[str, str], Any] | None = getattr(_headers_seen, "entries", None)
    if remembered is None:
        return _made_header(name, value)
    key = (name.lower(), value)
    found = remembered.get(key)
    if found is None:
        found = remembered[key] = _made_header(name, value)
    return found


def _made_header(name: str, value: str) -> Any:
    if name.lower() in PLAIN_MIME_HEADERS:
        plain = plain_mime_header(_HEADER_CLASSES[name], name, value)
        if plain is not None:
            return plain
    return _POLICY.header_factory(name, value)


if TYPE_CHECKING:
    _FeedParser = FeedParser[Message]
else:
    _FeedParser = FeedParser


class _BoundedFeedParser(_FeedParser):
    """email's FeedParser, stopping at too many MIME parts or too deep a nesting of them."""

    _parts = 0

    def _new_message(self) -> None:
        self._parts += 1
        if self._parts > MAX_MIME_PARTS:
            raise _TooManyParts(f"more than {MAX_MIME_PARTS:,} MIME parts")
        if len(getattr(self, "_msgstack", ())) >= MAX_MIME_DEPTH:
            raise _TooManyParts(f"MIME parts nested more than {MAX_MIME_DEPTH} deep")
        getattr(super(), "_new_message")()  # noqa: B009 - private to email.feedparser, not in its stubs


def _feed(raw: bytes, parse_policy: Any) -> Message:
    """Parse bytes as BytesParser does (ASCII with surrogate escapes), with the parts bounded."""
    parser = _BoundedFeedParser(policy=parse_policy)
    parser.feed(raw.decode("ascii", "surrogateescape"))
    return parser.close()


def parse_tree(raw: bytes, problems: list[str]) -> tuple[Message | None, bool]:
    """The message's tree, and whether only its header could be parsed (then the body is text)."""
    try:
        return _feed(raw, _POLICY), False
    except _TooManyParts as exc:
        problems.append(f"parser: {exc}; read its header, and its body as plain text")
    except RecursionError:  # MIME parts nested deeper than the parser goes: compat32 fails too
        problems.append("parser: its MIME parts nest too deep; read its header, and its body as plain text")
    except Exception as exc:
        problems.append(f"parser: {type(exc).__name__} with the default policy; used compat32")
        try:
            return _feed(raw, _COMPAT32), False
        except Exception as exc:
            problems.append(f"parser: {type(exc).__name__} with compat32; read its header, and its "
                            "body as plain text")
    try:  # the header alone never nests
        return BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True), True
    except Exception as exc:
        problems.append(f"parser: {type(exc).__name__} reading the header; read as plain text")
    return None, False




@contextmanager
def reading_one_message() -> Iterator[list[str]]:
    """While one message is parsed (in this thread): its parsed headers are remembered, and the
    list yielded collects a note for each header value cut to MAX_HEADER_VALUE_CHARS."""
    _headers_seen.entries = {}
    _headers_seen.cut = []
    try:
        yield _headers_seen.cut
    finally:
        _headers_seen.entries = None
        _headers_seen.cut = None
