"""A realistic dispute-mailbox backlog made from the mail corpus: varied senders, unique messages."""

from __future__ import annotations

import random
import re
import tomllib
from email.message import EmailMessage

from testdata import MAIL

CORPUS = sorted((MAIL / "messages").glob("*.eml"))
EXPECTED: dict[str, str] = tomllib.loads((MAIL / "expected.toml").read_text(encoding="utf-8"))["messages"]

_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*<([^>\r\n]*)>")
_FROM = re.compile(rb"(?im)^(from:[^\r\n]*?)([A-Za-z0-9._%+-]+)@")


def corpus() -> list[tuple[str, bytes]]:
    """Every corpus message as (file name, bytes), in file order."""
    return [(path.name, path.read_bytes()) for path in CORPUS]


def varied(raw: bytes, number: int, rng: random.Random) -> bytes:
    """A copy of a corpus message that is a different message: own Message-ID, another person.

    The sender's domain (and so the organisation) is kept, so the copy routes as the original
    does; the local part changes, as different staff of one organisation write in. A copy of a
    message with no Message-ID stays without one but differs in its bytes.
    """
    stamp = f"X-Backlog-Number: {number}\r\n".encode()
    raw = _MESSAGE_ID.sub(lambda m: b"Message-ID: <" + f"b{number}.".encode() + m.group(1) + b">",
                          raw, count=1)
    person = rng.choice([b"jo.smith", b"sam.patel", b"alex.okafor", b"chris.wong", b"pat.murphy",
                         b"info", b"office", b"ceo", b"finance", b"lee.brown"])
    if rng.random() < 0.5:
        raw = _FROM.sub(lambda m: m.group(1) + person + b"@", raw, count=1)
    return stamp + raw


def realistic_backlog(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """``count`` messages cycling through the corpus (shuffled), each made unique by ``varied``."""
    rng = random.Random(seed)
    messages = corpus()
    backlog: list[tuple[str, bytes]] = []
    while len(backlog) < count:
        rng.shuffle(messages)
        for name, raw in messages[: count - len(backlog)]:
            backlog.append((name, varied(raw, len(backlog) + 1, rng)))
    return backlog


def large_dispute(size: int, *, sender: str = "jo.smith@agewell.example",
                  message_id: str = "<large-dispute@agewell.example>") -> bytes:
    """A stage-1 dispute with an attachment that makes the message about ``size`` bytes."""
    message = EmailMessage()
    message["From"] = f"Jo Smith <{sender}>"
    message["To"] = "disputes@bvsc.example"
    message["Subject"] = "Formal dispute: the Council has not paid our invoice"
    message["Message-ID"] = message_id
    message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    message.set_content(
        "Dear BVSC,\n\nWe wish to raise a formal dispute under the Compact. The Council has not paid "
        "our invoice for the second quarter, which is now 60 days overdue, in breach of the "
        "Compact's commitment to pay on time.\n\nJo Smith\nBexley Age Well\n")
    filler = bytes(rng_bytes(size * 3 // 4))
    message.add_attachment(filler, maintype="application", subtype="octet-stream",
                           filename="evidence.bin")
    return message.as_bytes()


def rng_bytes(size: int, seed: int = 3) -> bytes:
    """``size`` pseudo-random bytes (incompressible, as scanned evidence would be)."""
    return random.Random(seed).randbytes(size)
