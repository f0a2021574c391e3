"""What an IMAP server says, read: SELECT, FETCH items, BODYSTRUCTURE, COPYUID and uid-sets."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from compact_docs.errors import MailError

SIZE_MARGIN = 64 * 1024
"""Bytes a message may exceed its declared RFC822.SIZE by (line-end quirks)."""

COPYUID = re.compile(rb"(\d+) ([\d:,]+) ([\d:,]+)")
"""The arguments of the COPYUID response code: UIDVALIDITY, source uid-set, copies' uid-set."""

_HEADER_LINE = re.compile(rb"(?m)^(?![ \t])")


@dataclass(frozen=True)
class FolderState:
    """What SELECT reported about a folder (RFC 3501 section 6.3.1)."""

    name: str
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FolderStatus:
    """What STATUS reported about a folder (RFC 3501 section 6.3.10; HIGHESTMODSEQ from CONDSTORE,
    RFC 7162 section 3.1.2.1, when the server has it)."""

    name: str
    uidvalidity: int
    uidnext: int
    messages: int
    highestmodseq: int | None = None


@dataclass(frozen=True)
class CopiedMessages:
    """Messages of the selected folder that have a copy in ``folder``.

    ``uids`` maps each source UID to the UID of its copy, when known: from the COPYUID answer
    to UID COPY (UIDPLUS, RFC 4315 section 3), or from finding the copy (``find_copies``).
    ``uidvalidity`` is the destination folder's, when known.
    """

    folder: str
    source: tuple[int, ...]
    uidvalidity: int | None = None
    uids: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchedMessage:
    """One message as fetched, never marked read.

    ``raw`` is the whole message, or, when the message was over the size cap (``truncated``),
    a stand-in message made of its header and the start of its first text part, so a parser
    sees the sender, subject, threading headers and the opening of the text. ``size`` is
    always the full size on the server (RFC822.SIZE). ``unreadable`` says why a message could
    not be read at all (a malformed answer, more bytes than the server declared); its ``raw``
    is empty and it is for a person to look at.
    """

    uid: int
    size: int
    raw: bytes
    flags: frozenset[bytes]
    truncated: bool = False
    internaldate: datetime | None = None
    """When the server took the message in (INTERNALDATE, RFC 3501 section 2.3.3), if it said."""
    unreadable: str | None = None


@dataclass(frozen=True)
class TextPart:
    """Where a message's text is, from BODYSTRUCTURE: its section, subtype, charset, encoding."""

    section: str
    subtype: str
    charset: str | None
    encoding: str


@dataclass(frozen=True)
class MessageIdentity:
    """A message as COPY reproduces it: the same header bytes, size and INTERNALDATE."""

    header: bytes
    size: int
    internaldate: Any

    def search_key(self) -> tuple[bytes | list[Any], str | None]:
        """A SEARCH that finds this message's copies (and maybe others): by Message-ID, else size."""
        found = message_id(self.header)
        if found is not None:
            return header_search("Message-ID", found)
        return ["LARGER", self.size - 1, "SMALLER", self.size + 1], None


def folder_state(name: str, response: Mapping[bytes, Any]) -> FolderState:
    """The state of a folder from IMAPClient's SELECT (or EXAMINE) response.

    MailError without a UIDVALIDITY: the folder's UIDs could not be trusted.
    """
    if not isinstance(response.get(b"UIDVALIDITY"), int | bytes | str):
        raise MailError(f"IMAP: the server selected {name!r} without a UIDVALIDITY (RFC 3501 "
                        "section 6.3.1 requires one): its UIDs cannot be trusted, so nothing was read")
    return FolderState(
        name=name,
        uidvalidity=int(response[b"UIDVALIDITY"]),
        uidnext=int(response[b"UIDNEXT"]) if b"UIDNEXT" in response else None,
        exists=int(response.get(b"EXISTS", 0)),
    )


def first_text_part(structure: Any) -> TextPart | None:
    """The first text/plain part (else text/html) in BODYSTRUCTURE, depth first (RFC 3501 7.4.2)."""
    found: dict[str, TextPart] = {}

    def walk(node: Any, section: str) -> None:
        if not isinstance(node, tuple) or not node:
            return
        if isinstance(node[0], list):  # multipart: (parts, subtype, ...)
            for index, child in enumerate(node[0], start=1):
                walk(child, f"{section}.{index}" if section else str(index))
            return
        maintype, subtype = atom_text(node[0]).lower(), atom_text(node[1]).lower() if len(node) > 1 else ""
        if maintype != "text" or subtype not in ("plain", "html") or subtype in found:
            return
        params = node[2] if len(node) > 2 and isinstance(node[2], tuple) else ()
        pairs = dict(zip(map(atom_text, params[::2]), map(atom_text, params[1::2]), strict=False))
        charset = next((value for name, value in pairs.items() if name.lower() == "charset"), None)
        encoding = atom_text(node[5]).lower() if len(node) > 5 and node[5] else "7bit"
        found[subtype] = TextPart(section or "1", subtype, charset, encoding)

    walk(structure, "")
    return found.get("plain") or found.get("html")


def stand_in(header: bytes, part: TextPart | None, start: bytes) -> bytes:
    """A single-part message: the original header, the text part's content headers, its start."""
    fields = [f for f in _HEADER_LINE.split(header) if f.strip()]
    kept = [
        f for f in fields
        if not f.lower().startswith((b"content-type:", b"content-transfer-encoding:"))
    ]
    kept = [f if f.endswith(b"\n") else f + b"\r\n" for f in kept]
    if part is None:
        content = [b"Content-Type: text/plain; charset=us-ascii\r\n"]
        start = b""
    else:
        charset = f'; charset="{part.charset}"' if part.charset else ""
        content = [
            f"Content-Type: text/{part.subtype}{charset}\r\n".encode("ascii", "replace"),
            f"Content-Transfer-Encoding: {part.encoding}\r\n".encode("ascii", "replace"),
        ]
        start = whole_lines(start, part.encoding)
    return b"".join(kept + content) + b"\r\n" + start


def whole_lines(start: bytes, encoding: str) -> bytes:
    """Cut a partial body where it still decodes: at the last line end, or base64 quantum."""
    cut = start.rfind(b"\n")
    if cut >= 0:
        return start[: cut + 1]
    if encoding == "base64":
        return start[: len(start) - len(start) % 4]
    return start


def copied_messages(folder: str, source: list[int], copyuid: list[Any]) -> CopiedMessages:
    """What a UID COPY did: with COPYUID (RFC 4315 section 3), where each copy landed."""
    code = copyuid[-1] if copyuid and isinstance(copyuid[-1], bytes) else b""
    found = COPYUID.fullmatch(code.strip())
    if found is None:
        return CopiedMessages(folder, tuple(source))
    sources, copies = uid_set(found.group(2)), uid_set(found.group(3))
    # The two sets are listed in corresponding order; anything else is not trusted.
    uids = dict(zip(sources, copies, strict=True)) if len(sources) == len(copies) else {}
    return CopiedMessages(folder, tuple(source), int(found.group(1)), uids)


def uid_set(value: bytes) -> list[int]:
    """The UIDs of a uid-set such as ``4,7:9`` in the order given (``9:7`` is the same as ``7:9``)."""
    uids: list[int] = []
    for part in value.split(b","):
        first, _, last = part.partition(b":")
        low, high = sorted((int(first), int(last or first)))
        uids.extend(range(low, high + 1))
    return uids


def fetch_chunks(
    uids: list[int], described: dict[int, Any], size_cap: int, text_cap: int, limit: int
) -> Iterator[list[int]]:
    """Consecutive runs of UIDs whose fetched bytes add up to at most ``limit`` (or one UID)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = fetched_size(described[uid])
        if size > size_cap:
            size = text_cap + 16 * 1024  # the header and the start of the text
        if group and total + size > limit:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def message_id(header: bytes) -> str | None:
    """The Message-ID in a message header (ASCII or UTF-8), if it has a usable one."""
    try:
        decoded = header.decode("utf-8")
    except UnicodeDecodeError:
        return None
    value = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(decoded).get("Message-ID")
    if not isinstance(value, str):
        return None
    value = "".join(value.split())
    return value if value and value.isprintable() else None


def header_search(name: str, value: str) -> tuple[bytes | list[bytes], str | None]:
    """A ``HEADER name value`` search key and its CHARSET (RFC 3501 section 6.4.4).

    An ASCII value goes as a quoted string; any other as a UTF-8 literal (IMAPClient sends
    8-bit arguments as literals), with ``CHARSET UTF-8``.
    """
    if value.isascii():
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'HEADER {name} "{quoted}"'.encode("ascii"), None
    return [b"HEADER", name.encode("ascii"), value.encode("utf-8")], "UTF-8"


def fetched_size(data: Mapping[bytes, Any]) -> int:
    """A FETCH item's RFC822.SIZE (0 when absent or nonsense)."""
    return declared_size(data) or 0


def declared_size(data: Mapping[bytes, Any]) -> int | None:
    """RFC822.SIZE as a number, or None when the server gave none or nonsense."""
    value = data.get(b"RFC822.SIZE")
    if isinstance(value, int):
        return value if value >= 0 else None
    return int(value) if isinstance(value, bytes) and value.isdigit() else None


def allowed_size(declared: int) -> int:
    """The most bytes of a message kept for its declared size: a margin for line-end quirks."""
    return declared + max(SIZE_MARGIN, declared // 4)


def fetched_internaldate(data: Mapping[bytes, Any]) -> datetime | None:
    """A FETCH item's INTERNALDATE as an aware datetime (IMAPClient gives local naive time unless
    told otherwise)."""
    value = data.get(b"INTERNALDATE")
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.astimezone()


def fetched_flags(data: Mapping[bytes, Any]) -> frozenset[bytes]:
    """A FETCH item's FLAGS."""
    return frozenset(bytes(flag) for flag in data.get(b"FLAGS", ()))


def atom_text(value: Any) -> str:
    """An atom or string of a response as text."""
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


def untagged(responses: Iterable[tuple[Any, ...]], kinds: frozenset[bytes]) -> list[tuple[Any, ...]]:
    """The untagged responses of these kinds (``* 4 EXISTS``: kind EXISTS), in order."""
    return [r for r in responses if len(r) > 1 and isinstance(r[1], bytes) and r[1].upper() in kinds]


def bye_text(response: tuple[Any, ...]) -> str:
    """A BYE response as one line."""
    return "BYE " + " ".join(atom_text(part) for part in response[1:])
