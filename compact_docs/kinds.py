"""The five letter kinds, by the names data files and commands use for them."""

from __future__ import annotations

from typing import Literal

Kind = Literal["notice", "service-change", "funding-end-plan", "escalation", "agreement"]
KINDS: tuple[Kind, ...] = ("notice", "service-change", "funding-end-plan", "escalation", "agreement")

DESCRIPTIONS: dict[Kind, str] = {
    "notice": "a funder's notice that funding will end, be reduced or be varied",
    "service-change": "a voluntary organisation's notice of a change to its service",
    "funding-end-plan": "a voluntary organisation's plan for the end of its funding",
    "escalation": "a dispute letter for stage 1, 2 or 3 of the Compact's conflict resolution",
    "agreement": "a signatory agreement to the Compact",
}
"""What each kind of letter is, in a few words."""
