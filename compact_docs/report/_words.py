"""Numbers in plain English for the report's findings: '3 cases', 'a, b and c'."""

from __future__ import annotations

from collections.abc import Sequence

_IRREGULAR = {"correction of the router": "corrections of the router"}


def count_of(count: int, noun: str) -> str:
    """'1 case', '3 cases', '2 working days'."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {_IRREGULAR.get(noun, noun + 's')}"


def join_words(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
