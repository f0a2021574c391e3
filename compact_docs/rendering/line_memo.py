"""Line breaking remembered across letters: WeasyPrint's first-line split, memoised per font set.

Most of a letter's wording is the same in every letter of a kind, so a process laying out many
letters splits the same text in the same font at the same width again and again. WeasyPrint
already keeps one such cache on its FontConfiguration (`strut_layouts`); this adds the line
splits themselves, for layouts that use a `LetterFonts` configuration (any other WeasyPrint use
in the process runs the original function).

The split is a pure function of the text, the width and the style properties in the key, with
two exceptions. A hyphenation zone given as a calc() is resolved during the split from other
properties, so such a split is never remembered. A font added later (@font-face) changes what a
family name means, so adding one forgets every split. Each text box gets its own copy of a
remembered layout, because drawing may change it (a block ellipsis rewrites its text, and a
blank line resets its direction). Remembered splits give byte-identical PDFs
(tests/compact_docs/rendering/test_line_memo.py).
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from weasyprint.text.fonts import FontConfiguration

MAX_LINES = 10_000
"""Remembered splits per font configuration before the memo starts again."""

MAX_TEXT_CHARS = 2_000_000
"""Text held in the memo's keys before it starts again (each split of a long paragraph keys the
rest of the paragraph, so long paragraphs cost more than their number of lines suggests)."""

_STYLE_KEYS = (
    "font_family", "font_style", "font_stretch", "font_weight", "font_size", "font_kerning",
    "font_variant_ligatures", "font_variant_position", "font_variant_caps", "font_variant_numeric",
    "font_variant_alternates", "font_variant_east_asian", "font_feature_settings",
    "font_variation_settings", "font_language_override", "lang", "direction",
    "text_decoration_line", "word_spacing", "letter_spacing", "overflow_wrap", "word_break",
    "white_space", "hyphens", "hyphenate_character", "hyphenate_limit_chars",
    "hyphenate_limit_zone", "tab_size",
)
"""The style properties WeasyPrint reads when it splits a line (the font and the text's rules)."""

CHECKED_VERSIONS = frozenset({70})
"""WeasyPrint major versions whose line splitting was read and checked byte for byte with the memo.
Another version lays out without it (the same PDFs, only slower) until it is checked and added."""

_PARAMETERS = ("text", "style", "context", "max_width", "justification_spacing", "is_line_start",
               "minimum")
_USERS = ("weasyprint.layout.inline", "weasyprint.layout.preferred")
"""The modules that call split_first_line by name for layout (SVG text is left alone)."""


class LineMemo:
    """Remembered `split_first_line` results for one font configuration."""

    def __init__(self) -> None:
        self.lines: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.text_chars = 0
        self.hits = 0
        self.misses = 0

    def remember(self, key: tuple[Any, ...], split: tuple[Any, ...]) -> None:
        """Keep a split, with its own copy of the layout (the caller's may change when drawn)."""
        text = key[0]
        if len(self.lines) >= MAX_LINES or self.text_chars + len(text) > MAX_TEXT_CHARS:
            self.forget()
        layout, *rest = split
        self.lines[key] = (copy.copy(layout), *rest)
        self.text_chars += len(text)

    def recall(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """A remembered split with a fresh copy of its layout, or None (TypeError for a key that
        cannot be hashed)."""
        found = self.lines.get(key)
        if found is None:
            return None
        layout, *rest = found
        return (copy.copy(layout), *rest)

    def forget(self) -> None:
        """Start again."""
        self.lines.clear()
        self.text_chars = 0


class LetterFonts(FontConfiguration):  # type: ignore[misc]
    """A FontConfiguration whose layouts' line splits are remembered, when this WeasyPrint allows.

    ``lines`` is the memo, or None for a WeasyPrint the memo was not checked with.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lines: LineMemo | None = LineMemo() if install() else None

    def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
        """Add an @font-face font, and forget the splits and struts measured before it."""
        added = super().add_font_face(rule_descriptors, url_fetcher)
        # A family name may now resolve to another font: what was measured with the old one is stale.
        if self.lines is not None:
            self.lines.forget()
        self.strut_layouts.clear()
        return added


_installed = False


def install() -> bool:
    """Route WeasyPrint's layout through the memo (once; only LetterFonts layouts are memoised).

    False, and WeasyPrint left as it is, for a version not in CHECKED_VERSIONS or when its line
    splitting is not the shape this expects.
    """
    global _installed
    if _installed:
        return True
    if unsupported() is not None:
        return False
    from weasyprint.text import line_break

    check_math = importlib.import_module("weasyprint.css.functions").check_math
    split = _memoised(line_break.split_first_line, check_math)
    for name in _USERS:
        importlib.import_module(name).split_first_line = split  # type: ignore[attr-defined]
    _installed = True
    return True


def unsupported() -> str | None:
    """Why this WeasyPrint's line splits cannot be remembered, or None when they can (changes nothing)."""
    if _installed:
        return None
    import weasyprint
    from weasyprint.text import line_break

    version = str(getattr(weasyprint, "__version__", ""))
    major = version.split(".")[0]
    if not major.isdigit() or int(major) not in CHECKED_VERSIONS:
        checked = ", ".join(str(v) for v in sorted(CHECKED_VERSIONS))
        return f"it is checked with WeasyPrint {checked}, not {version or 'this version'}"
    original = line_break.split_first_line
    check_math = getattr(importlib.import_module("weasyprint.css.functions"), "check_math", None)
    users = [importlib.import_module(name) for name in _USERS]
    if (check_math is None or tuple(inspect.signature(original).parameters) != _PARAMETERS
            or any(getattr(module, "split_first_line", None) is not original for module in users)):
        return f"WeasyPrint {version}'s line splitting is not the shape it expects"
    return None


def _memoised(original: Callable[..., Any], check_math: Callable[[Any], bool]) -> Callable[..., Any]:
    def split_first_line(text: str, style: Any, context: Any, max_width: float | None,
                         justification_spacing: float, is_line_start: bool = True,
                         minimum: bool = False) -> Any:
        fonts = style.font_config
        memo = fonts.lines if isinstance(fonts, LetterFonts) else None
        if memo is None or check_math(style["hyphenate_limit_zone"]):
            return original(text, style, context, max_width, justification_spacing, is_line_start,
                            minimum)
        key = (text, max_width, justification_spacing, is_line_start, minimum,
               *map(style.__getitem__, _STYLE_KEYS))
        try:
            found = memo.recall(key)
        except TypeError:  # a value that cannot be a key (a list): split it afresh
            return original(text, style, context, max_width, justification_spacing, is_line_start,
                            minimum)
        if found is not None:
            memo.hits += 1
            return found
        memo.misses += 1
        split = original(text, style, context, max_width, justification_spacing, is_line_start,
                         minimum)
        memo.remember(key, split)
        return split

    return split_first_line
