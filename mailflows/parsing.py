"""Robust parsing of raw mail bytes: every input gives a ParsedMessage, whatever is wrong with it."""

from __future__ import annotations

import base64
import binascii
import codecs
import email.header
import hashlib
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from typing import TypeVar

from mailflows.html_text import html_to_text
from mailflows.mime_tree import KEEP_END, parse_tree, parsed_header, reading_one_message, without_line_ends
from mailflows.sender import UNDECODED, plain_mailbox, read_mailbox, read_sender

DEFAULT_MAX_TEXT_CHARS = 200_000
"""How much body text the classifier sees at most; the rest of a message is never decoded."""

MAX_HEADER_CHARS = 4_000
MAX_VALUES_PER_HEADER = 100
"""How many values of one header (Received, say) are decoded; a message may repeat one endlessly."""
_MSGID = re.compile(r"<[^<>\s]+>")
_FOLD = re.compile(r"\r?\n[ \t]*")
_ENCODED_WORDS: re.Pattern[str] = getattr(email.header, "ecre")  # noqa: B009 - what decode_header looks for
_T = TypeVar("_T")


@dataclass(frozen=True)
class ParsedMessage:
    """What the classifier needs from one message, all decoded to plain text.

    `from_address` is the address inside <...> of the From header, never one shown in its
    display name. `return_path` is None when the header is absent and '' when it is empty (`<>`),
    as bounces have it. `problems` lists every fallback the parser needed, for the caseworker.
    """

    message_id: str
    message_id_generated: bool
    subject: str
    from_name: str
    from_address: str | None
    reply_to: str | None
    return_path: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: str | None
    content_type: str
    part_types: tuple[str, ...]
    text: str
    html_only: bool
    attachments: tuple[str, ...]
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    truncated: bool = False
    size: int = 0
    attached: tuple[ParsedMessage, ...] = ()
    """Messages attached whole (message/rfc822, a forward as an attachment), parsed; their text is
    not part of `text`."""
    ahead: object | None = None
    """What routing read in `text` ahead of deciding (a `mailflows.facts.ReadAhead`): the
    watcher's parsing workers do it in parallel, so the one process that decides need not."""
    sender_doubt: str | None = None
    """Why the From header cannot be trusted to name the sender (None when it can): see
    `mailflows.sender.read_mailbox`. Such a message is never escalated or acknowledged."""

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this message replies to: References, then In-Reply-To, no repeats."""
        seen: list[str] = []
        for mid in (*self.references, *self.in_reply_to):
            if mid not in seen:
                seen.append(mid)
        return tuple(seen)


def message_identity(raw: bytes) -> str:
    """A stable Message-ID for a message that has none: the SHA-256 of its bytes."""
    return f"<{hashlib.sha256(raw).hexdigest()}@compact-docs>"


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes as text: the declared charset if Python knows it, else UTF-8, else Windows-1252."""
    if charset:
        try:
            codecs.lookup(charset)
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _safe(call: Callable[[], _T], default: _T) -> _T:
    # The email package raises many kinds of exception on malformed input; one bad header or
    # part must never stop the rest of the message from being read.
    try:
        return call()
    except Exception:
        return default


def _raw_items(msg: Message) -> list[tuple[str, str]]:
    """The header (name, raw value) pairs, or none when even that fails."""
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


def _unfold(value: str) -> str:
    return " ".join(_FOLD.sub(" ", value).split())[:MAX_HEADER_CHARS]


def _decode_raw_header(value: str) -> str:
    """A raw header value (possibly with RFC 2047 words or undecodable bytes) as text."""
    if UNDECODED.search(value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"))
    if not _ENCODED_WORDS.search(value):
        # No encoded word: decode_header gives the value back as one chunk, and make_header
        # turns that into the same string (the usual case, and much the cheapest).
        return _unfold(value)
    try:
        return _unfold(str(make_header(decode_header(value))))
    except Exception:
        pass
    pieces: list[str] = []
    for chunk, charset in _safe(lambda: decode_header(value), [(value, None)]):
        pieces.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset))
    return _unfold("".join(pieces))


def _message_ids(values: list[str]) -> tuple[str, ...]:
    """The message ids in In-Reply-To or References; some senders encode them as RFC 2047 words
    (a generator folding a long line), which are decoded first so a thread still joins."""
    joined = " ".join(values)
    if _ENCODED_WORDS.search(joined):
        joined = " ".join(_decode_raw_header(v) for v in values)
    return tuple(_MSGID.findall(joined))


def _payload_bytes(part: Message, limit: int) -> tuple[bytes, bool]:
    """A leaf part's decoded bytes, decoding no more than about `limit` characters of it."""
    nothing: object = ""
    payload = _safe(lambda: part.get_payload(), nothing)
    if not isinstance(payload, str):
        return b"", False
    if len(payload) <= limit * 2:
        data = _safe(lambda: part.get_payload(decode=True), None)
        if isinstance(data, bytes):
            return data, False
    cte = str(_safe(lambda: part.get("content-transfer-encoding", ""), "")).strip().lower()
    head = payload[: limit * 2]
    raw = head.encode("utf-8", "surrogateescape")
    if cte == "base64":
        compact = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
        compact = compact[: len(compact) - len(compact) % 4]
        try:
            return base64.b64decode(compact), True
        except (binascii.Error, ValueError):
            return b"", True
    if cte == "quoted-printable":
        return quopri.decodestring(raw), True
    return raw, True


def _content_type(part: Message) -> str:
    ctype = _safe(part.get_content_type, "")
    if ctype:
        return ctype
    raw = next((v for k, v in _raw_items(part) if k.lower() == "content-type"), "")
    match = re.match(r"\s*([\w.+-]+/[\w.+-]+)", raw)
    return match.group(1).lower() if match else "text/plain"


def _charset(part: Message) -> str | None:
    charset = _safe(part.get_content_charset, None)
    if charset:
        return charset
    raw = next((v for k, v in _raw_items(part) if k.lower() == "content-type"), "")
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", raw, re.IGNORECASE)
    return match.group(1) if match else None


def _is_attachment(part: Message) -> bool:
    disposition = _safe(part.get_content_disposition, None)
    if disposition == "attachment":
        return True
    return bool(_safe(part.get_filename, None)) and disposition != "inline"


@dataclass(frozen=True)
class _PartInfo:
    """What the body reader needs of one part's headers."""

    content_type: str
    charset: str | None
    attachment: bool
    filename: str | None


def _part_info(part: Message) -> _PartInfo:
    """A part's type, charset and disposition, with each MIME header parsed once.

    Every header access on a policy.default message builds a new parsed header object, and
    get_content_type, get_content_charset, get_content_disposition and get_filename each access
    the same headers again: parsing Content-Type once per part halves the cost of reading a body.
    Anything unusual (a header the policy cannot parse) takes the slower, forgiving route.
    """
    raw = {k.lower(): v for k, v in reversed(_raw_items(part))}
    raw_type = raw.get("content-type")
    raw_disposition = raw.get("content-disposition")
    try:
        if isinstance(part, EmailMessage) and not UNDECODED.search((raw_type or "") + (raw_disposition or "")):
            if raw_type is None:
                ctype, params = part.get_default_type(), {}
            else:
                header = parsed_header("content-type", raw_type)
                ctype, params = header.content_type, dict(header.params)
                if ctype.count("/") != 1 or header.defects:
                    raise ValueError("content-type needs the forgiving route")
            disposition, dparams = None, {}
            if raw_disposition is not None:
                dheader = parsed_header("content-disposition", raw_disposition)
                disposition, dparams = dheader.content_disposition, dict(dheader.params)
            filename = dparams.get("filename") or params.get("name")
            charset = params.get("charset")
            return _PartInfo(
                content_type=ctype,
                charset=charset.lower() if isinstance(charset, str) and charset else None,
                attachment=disposition == "attachment" or (bool(filename) and disposition != "inline"),
                filename=str(filename) if filename else None,
            )
    except Exception:  # any surprise in a header: the forgiving route below decides
        pass
    name = _safe(part.get_filename, None)
    return _PartInfo(_content_type(part), _charset(part), _is_attachment(part), str(name) if name else None)


def _subparts(message: Message) -> list[Message]:
    """A message and every part inside it (just the message when walking it fails)."""
    try:
        return list(message.walk())
    except Exception:  # a malformed tree: the message itself is all there is
        return [message]


def _inner_message(part: Message) -> Message | None:
    """The message inside a message/rfc822 part, or None when it is not there."""
    payload: object = _safe(lambda: part.get_payload(), None)
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return None


_POLICY_HEADERS = frozenset({"from", "sender", "reply-to", "subject"})
"""Headers whose decoded value depends on the policy's structured parsing."""


class _Reader:
    """Reads one parsed tree, collecting the fallbacks it needed.

    With ``body_as_text`` (only the header could be parsed) the whole body is read as plain text.
    """

    def __init__(self, msg: Message, problems: list[str], max_text: int, *, body_as_text: bool = False) -> None:
        self.msg = msg
        self.problems = problems
        self.max_text = max_text
        self.body_as_text = body_as_text
        self.raw: dict[str, list[str]] = {}
        for key, value in _raw_items(msg):  # read once: a message may have many thousands
            self.raw.setdefault(key.lower(), []).append(value)
        self.attached_trees: list[Message] = []

    def values(self, name: str) -> list[str]:
        """Every value of a header, decoded, falling back to the raw value when policy parsing fails."""
        if isinstance(self.msg, EmailMessage):
            try:
                values = [_unfold(_policy_text(name, v)) for v in self.raw.get(name.lower(), [])]
            except Exception as exc:
                self.problems.append(f"header {name}: {type(exc).__name__}; read raw")
            else:
                if not any("\ufffd" in v for v in values):
                    return values
                # An unknown charset in an encoded word: the raw route guesses Windows-1252.
        return [_decode_raw_header(v) for v in self.raw.get(name.lower(), [])]

    def raw_values(self, name: str) -> list[str]:
        """Raw header values (for Message-IDs, which are never encoded words)."""
        raw = [decode_bytes(v.encode("utf-8", "surrogateescape")) for v in self.raw.get(name.lower(), [])]
        if name.lower() in KEEP_END:  # bounded already, from the end: the newest IDs are last
            return [" ".join(_FOLD.sub(" ", v).split()) for v in raw]
        return [_unfold(v) for v in raw]

    def all_headers(self) -> dict[str, tuple[str, ...]]:
        """Every header, decoded. Address and text headers go through the policy's parsers;
        the rest (Received, DKIM, List-*, Auto-Submitted ...) only need RFC 2047 decoding, and
        parsing them as structured headers was most of the time spent on a message."""
        grouped: dict[str, list[str]] = {}
        for name, values in self.raw.items():
            if len(grouped) < 200:
                grouped[name] = values[:MAX_VALUES_PER_HEADER]
        return {name: tuple(self.values(name)) if name in _POLICY_HEADERS
                else tuple(_decode_raw_header(v) for v in raw)
                for name, raw in grouped.items()}

    def body(self) -> tuple[str, bool, tuple[str, ...], tuple[str, ...], bool]:
        """Body text, whether it came from HTML only, attachments, part types, and truncation."""
        if self.body_as_text:
            nothing: object = ""
            payload = _safe(lambda: self.msg.get_payload(), nothing)
            body = payload if isinstance(payload, str) else ""
            text = decode_bytes(body[: self.max_text * 2].encode("utf-8", "surrogateescape"))
            ctype = _content_type(self.msg)
            return (text[: self.max_text], False, (), (ctype,), len(text) > self.max_text)
        plain: list[str] = []
        html: list[str] = []
        attachments: list[str] = []
        types: list[str] = []
        budget = self.max_text
        truncated = False
        parts = _safe(lambda: list(self.msg.walk()), [self.msg])
        inside: set[int] = set()
        for part in parts:
            if id(part) in inside:
                continue
            info = _part_info(part)
            ctype = info.content_type
            types.append(ctype)
            if ctype == "message/rfc822" and part is not self.msg:
                inner = _inner_message(part)
                if inner is not None:
                    inside.update(id(p) for p in _subparts(inner))
                    self.attached_trees.append(inner)
                    continue
            if _safe(part.is_multipart, False):
                continue
            if ctype not in ("text/plain", "text/html") or info.attachment:
                attachments.append(_unfold(info.filename) if info.filename else ctype)
                continue
            if budget <= 0:
                truncated = True
                continue
            data, cut = _payload_bytes(part, budget)
            text = decode_bytes(data, info.charset)
            if ctype == "text/html":
                text = html_to_text(text)
            if cut or len(text) > budget:
                truncated = True
            text = text[:budget]
            budget -= len(text)
            (plain if ctype == "text/plain" else html).append(text)
        chosen = plain if any(t.strip() for t in plain) else html
        html_only = bool(html) and chosen is html
        return ("\n\n".join(chosen), html_only, tuple(attachments), tuple(types), truncated)


def _policy_text(name: str, value: str) -> str:
    """A header value as the message's policy (email.policy.default) decodes it, as text.

    That is ``str(message.get_all(name)[i])``: the value without line ends through the header
    registry. An unstructured header (Subject) of plain ASCII with no encoded word ('=?')
    decodes to exactly its own text, and an address header of one plain mailbox as
    `plain_mailbox` writes it, so neither is handed to the registry.
    """
    unfolded = without_line_ends(value)
    if name == "subject" and unfolded.isascii() and "=?" not in unfolded:
        return unfolded
    if name != "subject":  # an address header: From, Sender, Reply-To
        plain = plain_mailbox(unfolded)
        if plain is not None:
            return plain
    return str(parsed_header(name, unfolded))


_MESSAGE_ID_LINE = re.compile(rb"^message-id:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)", re.IGNORECASE | re.MULTILINE)


def header_message_id(header: bytes) -> str | None:
    """The Message-ID `parse_message` finds in a header block, read without parsing the block;
    None when its first Message-ID line holds none (parse the whole message then)."""
    match = _MESSAGE_ID_LINE.search(header)
    if match is None:
        return None
    return _first_id([" ".join(_FOLD.sub(" ", decode_bytes(match.group(1))).split())])


def _first_id(values: list[str]) -> str | None:
    for value in values:
        match = _MSGID.search(value)
        if match:
            return match.group(0)
        if value.strip() and " " not in value.strip():
            return f"<{value.strip().strip('<>')}>"
    return None


def parse_message(raw: bytes, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ParsedMessage:
    """Parse raw message bytes; never raises, and records each fallback it needed in `problems`."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("parse_message takes the raw bytes of a message")
    raw = bytes(raw)
    with reading_one_message() as cut:
        return _parse(raw, max_text_chars, cut)


MAX_ATTACHED_DEPTH = 3
"""How deep forwards attached inside forwards are read as messages of their own."""


def _parse(raw: bytes, max_text_chars: int, cut: list[str]) -> ParsedMessage:
    problems: list[str] = []
    msg, header_only = parse_tree(raw, problems)
    problems += cut
    if msg is None:
        text = decode_bytes(raw[: max_text_chars * 2])[:max_text_chars]
        return ParsedMessage(
            message_id=message_identity(raw), message_id_generated=True, subject="",
            from_name="", from_address=None, reply_to=None, return_path=None, in_reply_to=(),
            references=(), date=None, content_type="text/plain", part_types=("text/plain",),
            text=text, html_only=False, attachments=(), problems=tuple(problems),
            truncated=len(raw) > max_text_chars, size=len(raw))
    return _from_tree(msg, raw, problems, cut, max_text_chars, 0, header_only)


def _from_tree(msg: Message, raw: bytes, problems: list[str], cut: list[str], max_text_chars: int,
               depth: int, header_only: bool = False) -> ParsedMessage:
    reader = _Reader(msg, problems, max_text_chars, body_as_text=header_only)
    defects: list[object] = _safe(lambda: list(msg.defects), [])
    if defects:
        problems.append("defects: " + ", ".join(sorted({type(d).__name__ for d in defects})))
    headers = reader.all_headers()
    mid = _first_id(reader.raw_values("message-id"))
    sender = read_sender(reader.raw.get("from", []))
    doubts = list(sender.doubts)
    if any(note.lower().startswith("header from:") for note in cut):
        doubts.append("the header was too long and was cut")
    reply_to = None
    for value in reader.raw.get("reply-to", [])[:1]:
        mailbox = read_mailbox(value)
        if mailbox.doubts:
            problems.append(f"Reply-To ignored: {'; '.join(mailbox.doubts)}")
        else:
            reply_to = mailbox.address
    return_path_values = reader.raw_values("return-path")
    return_path: str | None = None
    if return_path_values:
        return_path = return_path_values[0].strip().strip("<>").strip()
    text, html_only, attachments, types, truncated = reader.body()
    subjects = headers.get("subject", ())
    return ParsedMessage(
        message_id=mid or message_identity(raw),
        message_id_generated=mid is None,
        subject=subjects[0] if subjects else "",
        from_name=sender.name[:MAX_HEADER_CHARS],
        from_address=sender.address,
        reply_to=reply_to,
        return_path=return_path,
        in_reply_to=_message_ids(reader.raw_values("in-reply-to")),
        references=_message_ids(reader.raw_values("references")),
        date=(headers.get("date") or (None,))[0],
        content_type=types[0] if types else "text/plain",
        part_types=types,
        text=text,
        html_only=html_only,
        attachments=attachments,
        headers=headers,
        problems=tuple(dict.fromkeys(problems)),
        truncated=truncated,
        size=len(raw),
        sender_doubt="; ".join(doubts) or None,
        attached=_attached(reader.attached_trees, cut, max_text_chars, depth),
    )


def _attached(trees: list[Message], cut: list[str], max_text_chars: int, depth: int) -> tuple[ParsedMessage, ...]:
    """The messages attached whole, parsed like the message itself (a few, not too deep)."""
    if depth >= MAX_ATTACHED_DEPTH:
        return ()
    found: list[ParsedMessage] = []
    for tree in trees[:5]:
        inner_problems: list[str] = []
        try:
            found.append(_from_tree(tree, b"", inner_problems, cut, max_text_chars, depth + 1))
        except Exception:  # an attached message that cannot be read stays an attachment
            continue
    return tuple(found)
