"""Line breaking remembered across letters: WeasyPrint's first-line split, memoised per font set.

Most of a letter's wording is the same in every letter of a kind, so a process laying out many
letters splits the same text in the same font at the same width again and again. WeasyPrint
already keeps one such cache on its FontConfiguration (`strut_layouts`); this adds the line
splits themselves. The split is a pure function of the text, the width and the text's style, and
the deactivated Pango layout it returns is only read afterwards (drawing re-creates the Pango
objects from it; a block ellipsis, which rewrites its text, is never remembered), so a remembered
result gives byte-identical PDFs (tests/test_line_memo.py).
Only font configurations registered here are memoised; any other WeasyPrint use in the process
runs the original function.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

MAX_LINES = 10_000
"""Remembered splits per font configuration before the memo starts again (about 1 kB each; a
letter kind's wording is a few hundred, and each letter adds some twenty of its own)."""

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
    """Remembered `split_first_line` results for one FontConfiguration."""

    def __init__(self) -> None:
        self.lines: dict[tuple[Any, ...], Any] = {}
        self.hits = 0
        self.misses = 0


_memos: weakref.WeakKeyDictionary[Any, LineMemo] = weakref.WeakKeyDictionary()
_installed = False


def remember_lines(font_config: Any) -> LineMemo | None:
    """Memoise line splits for layouts that use `font_config`; None if this WeasyPrint differs.

    Falls back to plain WeasyPrint (no memo, same output) when its line splitting does not have
    the shape this was written against, so an upgrade can only make letters slower, never wrong.
    """
    if not install():
        return None
    memo = _memos.get(font_config)
    if memo is None:
        memo = _memos[font_config] = LineMemo()
    return memo


def install() -> bool:
    """Route WeasyPrint's layout through the memo (once; only registered fonts are memoised).

    False, and WeasyPrint left as it is, for a version not in CHECKED_VERSIONS or when its line
    splitting is not the shape this expects.
    """
    global _installed
    if _installed:
        return True
    import importlib

    import weasyprint
    from weasyprint.text import line_break

    major = str(getattr(weasyprint, "__version__", "")).split(".")[0]
    if not major.isdigit() or int(major) not in CHECKED_VERSIONS:
        return False
    original = line_break.split_first_line
    if tuple(inspect.signature(original).parameters) != _PARAMETERS:
        return False
    users = [importlib.import_module(name) for name in _USERS]
    if any(getattr(module, "split_first_line", None) is not original for module in users):
        return False
    split = _memoised(original)
    for module in users:
        module.split_first_line = split  # type: ignore[attr-defined]
    _installed = True
    return True


def _memoised(original: Callable[..., Any]) -> Callable[..., Any]:
    def split_first_line(text: str, style: Any, context: Any, max_width: float | None,
                         justification_spacing: float, is_line_start: bool = True,
                         minimum: bool = False) -> Any:
        memo = _memos.get(style.font_config)
        # A block ellipsis (line-clamp) rewrites the layout's text when it is drawn: never share it.
        if memo is None or style["block_ellipsis"] != "none":
            return original(text, style, context, max_width, justification_spacing, is_line_start,
                            minimum)
        key = (text, max_width, justification_spacing, is_line_start, minimum,
               *map(style.__getitem__, _STYLE_KEYS))
        try:
            found = memo.lines.get(key)
        except TypeError:  # a value that cannot be a key (a list): split it afresh
            return original(text, style, context, max_width, justification_spacing, is_line_start,
                            minimum)
        if found is not None:
            memo.hits += 1
            return found
        memo.misses += 1
        found = original(text, style, context, max_width, justification_spacing, is_line_start,
                         minimum)
        if len(memo.lines) >= MAX_LINES:
            memo.lines.clear()
        memo.lines[key] = found
        return found

    return split_first_line
