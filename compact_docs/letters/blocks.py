"""The building blocks of a letter: headings, paragraphs, lists and tables that every format lays out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from compact_docs.models import Letter
from compact_docs.rules.checks import Report
from compact_docs.rules.profile import Profile

BlockType = Literal[
    "letterhead", "address", "references", "facts", "heading", "paragraph", "list", "table",
    "signature",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def clean(text: object) -> str:
    """Text safe for XML and one line long: control characters dropped, whitespace collapsed."""
    return _SPACE.sub(" ", _CONTROL.sub("", str(text))).strip()


def paragraphs_of(text: str | None) -> list[str]:
    """A user's text split into paragraphs on blank lines, each cleaned."""
    if not text:
        return []
    parts = re.split(r"\n\s*\n", _CONTROL.sub("", text))
    return [clean(p) for p in parts if clean(p)]


@dataclass(frozen=True)
class Block:
    """One piece of a letter, the same for the DOCX and the PDF.

    `type` says how it is laid out: a `letterhead` (text = sender, items = address and contact
    lines), an `address` (items = lines), `references` (rows of label and value under the
    address, such as the date and 'Our reference'), `facts` (rows of label and value), a `heading` (text,
    level 1 to 3), a `paragraph` (optional bold `label`, then text), a bulleted `list` (items), a
    `table` (header and rows) or a `signature` (text = closing words, items = name, role, body).
    """

    type: BlockType
    text: str = ""
    level: int = 2
    label: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()

    def words(self) -> str:
        """All the text of the block, in reading order, as one line."""
        parts = [self.label, self.text, *self.items, *self.header]
        parts += [cell for row in self.rows for cell in row]
        return clean(" ".join(p for p in parts if p))


def heading(text: str, level: int = 2) -> Block:
    """A section heading (level 1 is the letter's subject)."""
    return Block("heading", text=clean(text), level=level)


def para(text: str, label: str = "") -> Block:
    """A paragraph, optionally led by a bold label such as 'Case reference:'."""
    return Block("paragraph", text=clean(text), label=clean(label))


def bullets(items: list[str] | tuple[str, ...]) -> Block:
    """A bulleted list; blank items are dropped."""
    return Block("list", items=tuple(clean(i) for i in items if clean(i)))


def facts(rows: list[tuple[str, str]]) -> Block:
    """A two-column table of labels and values; rows with a blank value are dropped."""
    kept = tuple((clean(k), clean(v)) for k, v in rows if clean(v))
    return Block("facts", rows=kept)


def references(rows: list[tuple[str, str]]) -> Block:
    """The date and reference lines under the address; rows with a blank value are dropped."""
    return Block("references", rows=tuple((clean(k), clean(v)) for k, v in rows if clean(v)))


def table(header: list[str], rows: list[list[str]]) -> Block:
    """A table with a header row."""
    return Block("table", header=tuple(clean(h) for h in header),
                 rows=tuple(tuple(clean(c) for c in row) for row in rows))


@dataclass
class LetterContext:
    """Everything a template needs to lay out one letter: its blocks and the facts behind them.

    Templates mostly loop over `blocks`; `letter`, `profile`, `report` and `dates` are there for a
    user's own template that wants to word things differently. `reference` is the funding
    agreement's or the case's reference ('' when the letter has none).
    """

    kind: str
    title: str
    blocks: list[Block]
    letter: Letter
    profile: Profile
    report: Report
    sender: str
    reference: str
    organisation: str
    footer: str
    running_header: str
    letter_date: date
    layout: Literal["letter", "document"] = "letter"
    stage: int | None = None
    lang: str = "en-GB"
    subject: str = ""
    dates: dict[str, date] = field(default_factory=dict)

    def as_template_context(self) -> dict[str, Any]:
        """The names a template can use, as a plain mapping."""
        return {name: getattr(self, name) for name in CONTEXT_NAMES}

    def text(self) -> str:
        """The letter's words in reading order, one block a line (used to compare formats)."""
        return "\n".join(b.words() for b in self.blocks)


CONTEXT_NAMES: tuple[str, ...] = (
    "kind", "title", "blocks", "letter", "profile", "report", "sender", "reference",
    "organisation", "footer", "running_header", "letter_date", "layout", "stage", "lang",
    "subject", "dates",
)
"""The variables every letter template is given."""


def money(value: Decimal | None) -> str:
    """'£48,000', or '£1,250.50' when there are pence."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return f"£{int(value):,}"
    return f"£{value:,.2f}"


def short_date(day: date) -> str:
    """A date as at the top of a British letter: '30 November 2026'."""
    return f"{day.day} {day:%B %Y}"
