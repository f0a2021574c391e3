"""The wording of every letter kind, as blocks that the DOCX and PDF templates lay out alike."""

from __future__ import annotations

from compact_docs.letters.blocks import CONTEXT_NAMES, Block, LetterContext
from compact_docs.letters.context import letter_context

__all__ = ["CONTEXT_NAMES", "Block", "LetterContext", "letter_context"]
