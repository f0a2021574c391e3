"""compact-docs: letters checked against a local Compact, and a dispute register that loses nothing."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from compact_docs._moved import MovedModules
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
    from compact_docs.kinds import KINDS
    from compact_docs.loading import load_letter
    from compact_docs.models import Letter
    from compact_docs.register.cases import CaseRegister
    from compact_docs.register.records import Case
    from compact_docs.rendering.renderer import Renderer, RenderResult, render, render_examples
    from compact_docs.rules.checks import Finding, Report, check, check_letter
    from compact_docs.rules.dates import add_months, deemed_given, earliest_effective_date
    from compact_docs.rules.disputes import DisputeFacts, StageDecision, decide_stage
    from compact_docs.rules.profile import Profile, bundled_profile_names, load_profile

# The public names are imported when first used, so a command that needs only the case register
# (or only DOCX) does not pay for loading WeasyPrint, python-docx or the bank-holiday tables.
_WHERE = {
    "Finding": "rules.checks", "Report": "rules.checks", "check": "rules.checks",
    "check_letter": "rules.checks",
    "add_months": "rules.dates", "deemed_given": "rules.dates", "earliest_effective_date": "rules.dates",
    "DisputeFacts": "rules.disputes", "StageDecision": "rules.disputes", "decide_stage": "rules.disputes",
    "load_letter": "loading", "KINDS": "kinds", "Letter": "models",
    "Profile": "rules.profile", "bundled_profile_names": "rules.profile", "load_profile": "rules.profile",
    "Case": "register.records", "CaseRegister": "register.cases",
    "Renderer": "rendering.renderer", "RenderResult": "rendering.renderer", "render": "rendering.renderer",
    "render_examples": "rendering.renderer",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'compact_docs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"compact_docs.{module}"), name)
    globals()[name] = value
    return value


# Modules that moved into the stage folders are still importable by their old names.
MovedModules.install({
    "compact_docs.profile": "compact_docs.rules.profile",
    "compact_docs.dates": "compact_docs.rules.dates",
    "compact_docs.checks": "compact_docs.rules.checks",
    "compact_docs.disputes": "compact_docs.rules.disputes",
    "compact_docs.renderer": "compact_docs.rendering.renderer",
    "compact_docs.render_docx": "compact_docs.rendering.docx",
    "compact_docs.render_pdf": "compact_docs.rendering.pdf",
    "compact_docs.render_fonts": "compact_docs.rendering.fonts",
    "compact_docs.line_memo": "compact_docs.rendering.line_memo",
    "compact_docs.template_folder": "compact_docs.rendering.template_folder",
    "compact_docs.templates_lint": "compact_docs.rendering.lint",
    "compact_docs.output": "compact_docs.rendering.output",
    "compact_docs.batch": "compact_docs.rendering.batch",
    "compact_docs.deadlines": "compact_docs.rendering.deadlines",
    "compact_docs.register_schema": "compact_docs.register.schema",
    "compact_docs.case_letter": "compact_docs.register.case_letter",
    "compact_docs.case_deadlines": "compact_docs.register.deadlines",
    "compact_docs.casework": "compact_docs.register.casework",
    "compact_docs.pdf_structure": "compact_docs.rendering.pdf_structure",
    "compact_docs.template_policy": "compact_docs.rendering.template_policy",
})

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
