"""compact-docs: letters checked against a local Compact, and a dispute register that loses nothing."""

from __future__ import annotations

from compact_docs.checks import Finding, Report, check, check_letter
from compact_docs.dates import add_months, deemed_given, earliest_effective_date
from compact_docs.disputes import DisputeFacts, StageDecision, decide_stage
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
from compact_docs.loading import load_letter
from compact_docs.models import KINDS, Letter
from compact_docs.profile import Profile, bundled_profile_names, load_profile
from compact_docs.register import Case, CaseRegister
from compact_docs.renderer import Renderer, RenderResult, render, render_examples

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
