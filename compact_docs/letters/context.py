"""Choosing the wording of a letter by its kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compact_docs.letters.agreement import agreement_context
from compact_docs.letters.blocks import LetterContext
from compact_docs.letters.escalation import escalation_context
from compact_docs.letters.funding_end_plan import funding_end_plan_context
from compact_docs.letters.notice import notice_context
from compact_docs.letters.service_change import service_change_context
from compact_docs.models import Letter
from compact_docs.rules.checks import Report
from compact_docs.rules.profile import Profile

_BUILDERS: dict[str, Callable[[Any, Report, Profile], LetterContext]] = {
    "notice": notice_context,
    "service-change": service_change_context,
    "funding-end-plan": funding_end_plan_context,
    "escalation": escalation_context,
    "agreement": agreement_context,
}


def letter_context(letter: Letter, report: Report, profile: Profile) -> LetterContext:
    """The context (blocks and facts) of any letter, from its data, report and profile."""
    return _BUILDERS[letter.kind](letter, report, profile)

