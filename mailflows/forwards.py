"""Forwards: the message inside a forward (attached whole, or inline below the forwarder's note).

A council officer or a BVSC colleague who forwards an organisation's complaint is not the one
complaining: the decision is made on the forwarded message and its original sender. quotequail
finds an inline forward (Gmail's "---------- Forwarded message ---------", Apple Mail's "Begin
forwarded message:", Outlook's From/Sent block under a "FW:" subject) and the forwarded headers;
an attached message (message/rfc822) comes parsed from the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

import quotequail

from mailflows.parsing import ParsedMessage

_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|sv|odp)\s*:\s*)*(?:fwd?|fw|tr|wg|rv|i|vs|doorst|pd|pdt)\s*:",
                              re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{3,}\s*)?(?:forwarded message|begin forwarded message|wiadomość przekazana dalej|"
    r"weitergeleitete nachricht|message transféré)", re.IGNORECASE | re.MULTILINE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|aw|sv|odp)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Forward:
    """A forwarded message: who first sent it, what it said, and how it came."""

    how: str
    """'attached' (a message/rfc822 part) or 'inline'."""
    sender_name: str
    sender_address: str | None
    subject: str
    text: str
    note: str
    """The forwarder's own words above the forwarded message."""

    @property
    def sender(self) -> str:
        """The original sender, as a reason names them."""
        if self.sender_address and self.sender_name:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_address or self.sender_name or "an unknown sender"


def _address(value: str) -> tuple[str, str | None]:
    for name, address in getaddresses([value]):
        if address and "@" in address:
            return name.strip(), address.strip().lower()
    match = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", value)
    return value.strip(), match.group(0).lower() if match else None


def _looks_forwarded(parsed: ParsedMessage, text: str) -> bool:
    """Whether an inline From/Sent block is a forward, not the quoted history of a reply."""
    if _FORWARD_SUBJECT.match(parsed.subject) or _FORWARD_MARKER.search(text):
        return True
    return not _REPLY_SUBJECT.match(parsed.subject)


def find_forward(parsed: ParsedMessage) -> Forward | None:
    """The message a forward carries, or None when the message is not a forward."""
    for inner in parsed.attached:
        if inner.from_address or inner.text.strip():
            return Forward("attached", inner.from_name, inner.from_address, inner.subject,
                           inner.text, parsed.text)
    text = parsed.text.replace("\r\n", "\n")
    if not (_FORWARD_SUBJECT.match(parsed.subject) or _FORWARD_MARKER.search(text)
            or re.search(r"^\s*\*?from:", text, re.IGNORECASE | re.MULTILINE)):
        return None
    try:
        found = quotequail.unwrap(text[:50_000])
    except Exception:  # a library surprise: read the message as it is
        return None
    if not found or found.get("type") != "forward" or not _looks_forwarded(parsed, text):
        return None
    name, address = _address(found.get("from", ""))
    return Forward("inline", name, address, found.get("subject", ""), found.get("text", ""),
                   found.get("text_top", ""))
