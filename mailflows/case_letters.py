"""A case's escalation letter from the mail configuration: the register's case, the directory's commissioner."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from compact_docs.register.case_letter import write_case_letter as write_letter
from compact_docs.rendering.renderer import FORMATS, RenderResult
from mailflows.config import MailConfig
from mailflows.route import open_register


def write_case_letter(config: MailConfig, ref: str, out_dir: str | Path = ".",
                      formats: Iterable[str] = FORMATS, *, policy_decision: str | None = None,
                      asks: Iterable[str] = (), force: bool = False) -> RenderResult:
    """Write the escalation letter for a case's current stage (`cases letter`).

    The commissioner the letter goes to is the one the organisations directory names for the
    case's organisation (none when the organisation is unknown).
    """
    with open_register(config, readonly=True) as register:
        case = register.require_case(ref)
        entry = config.organisation_named(case.organisation)
        return write_letter(
            register, case.ref, out_dir, formats,
            commissioner=entry.commissioner if entry else None,
            commissioner_body=entry.commissioner_body if entry else None,
            policy_decision=policy_decision, asks=asks, force=force)
