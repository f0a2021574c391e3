"""compact-docs: letters checked against a local Compact, and a dispute register that loses nothing."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from compact_docs.errors import (
    CompactError,
    ComplianceError,
    ConfigError,
    InvalidData,
    MailError,
    OutputError,
    ProfileError,
    RegisterError,
    TemplateError,
)

if TYPE_CHECKING:
    from compact_docs.checks import Finding, Report, check, check_letter
    from compact_docs.dates import add_months, deemed_given, earliest_effective_date
    from compact_docs.disputes import DisputeFacts, StageDecision, decide_stage
    from compact_docs.kinds import KINDS
    from compact_docs.loading import load_letter
    from compact_docs.models import Letter
    from compact_docs.profile import Profile, bundled_profile_names, load_profile
    from compact_docs.register import Case, CaseRegister
    from compact_docs.renderer import Renderer, RenderResult, render, render_examples

# The public names are imported when first used, so a command that needs only the case register
# (or only DOCX) does not pay for loading WeasyPrint, python-docx or the bank-holiday tables.
_WHERE = {
    "Finding": "checks", "Report": "checks", "check": "checks", "check_letter": "checks",
    "add_months": "dates", "deemed_given": "dates", "earliest_effective_date": "dates",
    "DisputeFacts": "disputes", "StageDecision": "disputes", "decide_stage": "disputes",
    "load_letter": "loading", "KINDS": "kinds", "Letter": "models",
    "Profile": "profile", "bundled_profile_names": "profile", "load_profile": "profile",
    "Case": "register", "CaseRegister": "register",
    "Renderer": "renderer", "RenderResult": "renderer", "render": "renderer",
    "render_examples": "renderer",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'compact_docs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"compact_docs.{module}"), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "Case",
    "CaseRegister",
    "CompactError",
    "ComplianceError",
    "ConfigError",
    "DisputeFacts",
    "Finding",
    "InvalidData",
    "Letter",
    "MailError",
    "OutputError",
    "Profile",
    "ProfileError",
    "RegisterError",
    "RenderResult",
    "Renderer",
    "Report",
    "StageDecision",
    "TemplateError",
    "__version__",
    "add_months",
    "bundled_profile_names",
    "check",
    "check_letter",
    "decide_stage",
    "deemed_given",
    "earliest_effective_date",
    "load_letter",
    "load_profile",
    "render",
    "render_examples",
]
