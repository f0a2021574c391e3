"""Who sent a message: the address inside <...> of its From header, read strictly, and any doubt about it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header

from mailflows.mime_tree import parsed_header

_FOLD = re.compile(r"\r?\n[ \t]*")
UNDECODED = re.compile("[\udc80-\udcff]")
"""Raw 8-bit bytes in a header value, as the parser keeps them (surrogate escapes)."""
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 5322 atext, plus any non-ASCII character (RFC 6532: UTF-8 addresses).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL = rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[^"\\\r\n]|\\.)*")'
_LABEL = r"[A-Za-z0-9\u0080-\U0010ffff](?:[A-Za-z0-9\-\u0080-\U0010ffff]*[A-Za-z0-9\u0080-\U0010ffff])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[^\[\]\\\s]*\])"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+\.[^\s<>\"'(),;:@]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_MISREAD_DEFECTS = ("InvalidHeaderDefect", "HeaderMissingRequiredValue")
"""Defects of the mail library's own reading that mean it may have picked another address."""
_PLAIN_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext, ASCII only
_PLAIN_ADDRESS = rf"{_PLAIN_ATOM}(?:\.{_PLAIN_ATOM})*@{_PLAIN_ATOM}(?:\.{_PLAIN_ATOM})*"
_PLAIN_MAILBOX = re.compile(
    rf"[ \t]*(?:(?P<name>{_PLAIN_ATOM}(?:[ \t]+{_PLAIN_ATOM})*)[ \t]*)?<(?P<angle>{_PLAIN_ADDRESS})>[ \t]*"
    rf"|[ \t]*(?P<bare>{_PLAIN_ADDRESS})[ \t]*")
"""One mailbox in its plainest form: `Jo Smith <jo@example.org>`, `<jo@example.org>` or
`jo@example.org`, the name plain words, the address a dot-atom on each side, all ASCII."""


@dataclass(frozen=True)
class Mailbox:
    """One address header read strictly: the address inside <...> (or the bare address), the
    display name, and every reason not to trust it (empty when there is none)."""

    name: str
    address: str | None
    doubts: tuple[str, ...] = field(default_factory=tuple)


def _text(value: str) -> tuple[str, bool]:
    """A raw header value as text; raw 8-bit bytes (surrogates) are UTF-8 or, failing that, guessed."""
    if not UNDECODED.search(value):
        return value, True
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), False


def _split(value: str) -> tuple[str, list[str], str, list[str], list[str]]:
    """The display text before '<', the contents of each <...>, the text after the last '>',
    the comments, and the syntax problems (quotes, comments or brackets left open, several
    mailboxes), reading quoted strings and comments as RFC 5322 does."""
    before: list[str] = []
    after: list[str] = []
    angles: list[str] = []
    comments: list[str] = []
    problems: list[str] = []
    index, length = 0, len(value)
    target = before
    while index < length:
        char = value[index]
        if char == '"':
            end = index + 1
            while end < length and value[end] != '"':
                end += 2 if value[end] == "\\" else 1
            if end >= length:
                problems.append("a quoted string is not closed")
            target.append(value[index : end + 1])
            index = end + 1
        elif char == "(":
            depth, end = 1, index + 1
            while end < length and depth:
                if value[end] == "\\":
                    end += 1
                elif value[end] == "(":
                    depth += 1
                elif value[end] == ")":
                    depth -= 1
                end += 1
            if depth:
                problems.append("a comment is not closed")
            comments.append(value[index + 1 : end - 1])
            target.append(" ")
            index = end
        elif char == "<":
            end = value.find(">", index + 1)
            if end < 0:
                problems.append("'<' is not closed by '>'")
                end = length
            inner = value[index + 1 : end]
            if "<" in inner:
                problems.append("'<' inside <...>")
            angles.append(inner)
            target = after
            index = end + 1
        elif char in ",;:":
            problems.append("more than one address, or a group" if char != ":" else "a group or a stray ':'")
            target.append(char)
            index += 1
        elif char == ">":
            problems.append("a stray '>'")
            index += 1
        else:
            target.append(char)
            index += 1
    return "".join(before), angles, "".join(after), comments, problems


def _unquote(phrase: str) -> str:
    """A display name as written: quoted strings unquoted, RFC 2047 encoded words decoded."""
    words = []
    for part in re.split(r'("(?:[^"\\]|\\.)*"?)', phrase):
        if part.startswith('"'):
            words.append(re.sub(r"\\(.)", r"\1", part[1:-1] if part.endswith('"') and len(part) > 1 else part[1:]))
        elif part.strip():
            words.append(str(make_header(decode_header(part))) if "=?" in part else part)
    return " ".join(words)


def read_mailbox(raw_value: str) -> Mailbox:
    """Read one From (or Reply-To) header value the strict way.

    The address is the one inside ``<...>`` (RFC 5322 angle-addr), or the whole value when it
    is a bare address; the display name never supplies it. A doubt is recorded for anything a
    forger could use to make a person or a mail library see another sender: control characters,
    a display name (encoded or not) showing another address, several addresses or brackets,
    unclosed quotes, an invalid address, or the mail library itself reading the header
    differently or failing to.
    """
    doubts: list[str] = []
    value, utf8 = _text(_FOLD.sub(" ", raw_value))
    if _CONTROL.search(value.replace("\t", " ")):
        doubts.append("control characters in the header")
        value = _CONTROL.sub(" ", value)
    before, angles, after, comments, problems = _split(value.strip())
    doubts += problems
    if angles:
        if len(angles) > 1:
            doubts.append(f"{len(angles)} addresses in <...>")
        address = angles[-1].strip()
        if ":" in address:  # an obsolete source route, "@relay:jo@example.org"
            doubts.append("a source route in <...>")
            address = address.rsplit(":", 1)[1].strip()
        if after.strip():
            doubts.append("text after the address in <...>")
        phrase = before
    else:
        address, phrase = before.strip(), ""
        if not address:
            return Mailbox("", None, tuple(doubts))
        if " " in _QUOTED.sub("", address):
            doubts.append("no <...> around the address, and more than an address")
    try:
        name = _unquote(phrase) if phrase.strip() else " ".join(" ".join(comments).split())
    except Exception:  # an encoded word the email package cannot decode
        doubts.append("the display name cannot be decoded")
        name = " ".join(phrase.split())
    if not address:
        return Mailbox(name, None, (*doubts, "an empty <>"))
    if not _ADDR_SPEC.fullmatch(address):
        return Mailbox(name, None, (*doubts, f"{address[:80]!r} is not a valid address"))
    if not utf8 and not address.isascii():
        doubts.append("the address has bytes that are not UTF-8")
    if "=?" in address:
        doubts.append("an encoded word inside the address")
    if _CONTROL.search(name):
        doubts.append("control characters in the display name")
        name = _CONTROL.sub(" ", name)
    # A list server names the list's own address over its '+noreply' one (Google Groups' digests).
    shown = [found for found in _ADDRESS_IN_TEXT.findall(name) if _base_address(found) != _base_address(address)]
    if shown:
        doubts.append(f"the display name shows another address ({shown[0]})")
    doubts += _library_reading(value, address)
    return Mailbox(" ".join(name.split()), address.lower(), tuple(dict.fromkeys(doubts)))


def _base_address(address: str) -> str:
    """An address without its '+' tag, lower-cased: 'list+noreply@googlegroups.com' -> 'list@googlegroups.com'."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def plain_mailbox(value: str) -> str | None:
    """How email.policy.default writes an address header holding one plain mailbox (`_PLAIN_MAILBOX`),
    found without its header registry; None for any other value.

    The library reads such a value as exactly that one address, without defects, and writes it
    back as `Name <address>` (the words of the name one space apart) or the bare address.
    Nothing that could be an encoded word ('=?') counts as plain.
    """
    if "=?" in value:
        return None
    found = _PLAIN_MAILBOX.fullmatch(value)
    if found is None:
        return None
    if found["bare"] is not None:
        return str(found["bare"])
    name = " ".join(found["name"].split()) if found["name"] else ""
    return f"{name} <{found['angle']}>" if name else str(found["angle"])


def _library_reading(value: str, address: str) -> list[str]:
    """Doubts from reading the same value with email.policy.default, as mail programs would."""
    if plain_mailbox(value) is not None:
        # Read by the library as this one address (the one `read_mailbox` found) and no defect.
        return []
    try:
        header = parsed_header("from", value)
        found = [a.addr_spec for a in header.addresses]
        defects = sorted({type(d).__name__ for d in header.defects if type(d).__name__ in _MISREAD_DEFECTS})
    except Exception as exc:
        return [f"the mail library cannot read it ({type(exc).__name__})"]
    doubts = [f"the mail library finds defects ({', '.join(defects)})"] if defects else []
    if [a.lower() for a in found] != [address.lower()]:
        doubts.append(f"the mail library reads another address ({', '.join(found) or 'none'})")
    return doubts


def read_sender(raw_values: list[str]) -> Mailbox:
    """The sender of a message from its From header values: one Mailbox, doubted if there are several."""
    if not raw_values:
        return Mailbox("", None)
    mailbox = read_mailbox(raw_values[0])
    if len(raw_values) > 1:
        return Mailbox(mailbox.name, mailbox.address, (*mailbox.doubts, f"{len(raw_values)} From headers"))
    return mailbox
