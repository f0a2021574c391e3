"""The one error hierarchy of compact-docs: every failure a user can cause is a CompactError."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CompactError(Exception):
    """Base of every error compact-docs raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class InvalidData(CompactError):
    """Raised when a data file cannot be read or does not fit its letter kind's model.

    The message names the file, the field (as a dotted path) and the problem, one problem a line.
    `problems` holds the same as (field, problem) pairs, such as ('notice.effective', 'is not a
    real date ...'); the field is '' for a problem with the file as a whole. `source` is the file
    (or 'data', or a batch's row) the problems are in.
    """

    exit_code = 2

    def __init__(self, message: str = "", problems: Sequence[tuple[str, str]] = (),
                 source: str | None = None) -> None:
        self.problems: list[tuple[str, str]] = list(problems) or [("", message)]
        self.source = source
        if problems:
            message = describe_problems(self.problems, source)
        super().__init__(message)


def describe_problems(problems: Sequence[tuple[str, str]], source: str | None = None) -> str:
    """'notice.yaml: funding.reference: is required' for one problem; for several, a first line
    'notice.yaml: 3 problems:' and then one indented line per problem."""
    lines = [f"{field}: {problem}" if field else problem for field, problem in problems]
    lead = f"{source}: " if source else ""
    if len(lines) == 1:
        return lead + lines[0]
    return f"{lead}{len(lines)} problems:\n" + "\n".join(f"  {line}" for line in lines)


class ProfileError(CompactError):
    """Raised when a Compact profile is unknown, unreadable or malformed."""

    exit_code = 2


class ComplianceError(CompactError):
    """Raised when a letter is refused because its checks found an error.

    Carries the report so a caller can show every finding.
    """

    exit_code = 1

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class TemplateError(CompactError):
    """Raised when a letter template is missing, malformed or fails to render."""

    exit_code = 2


class OutputError(CompactError):
    """Raised when an output file cannot be written safely (it exists, or escapes its folder).

    `existing` is the file that is already there, when that is the reason (a caller may then
    replace it with `force=True`; the command line says `--force`).
    """

    exit_code = 2

    def __init__(self, message: str, existing: Path | None = None) -> None:
        super().__init__(message)
        self.existing = existing


class RegisterError(CompactError):
    """Raised when the case register cannot be opened, or a case operation is not allowed."""

    exit_code = 2


class ConfigError(CompactError):
    """Raised when a mail configuration file is missing or malformed."""

    exit_code = 2


class MailError(CompactError):
    """Raised when a mailbox or mail server cannot be read, reached or written."""

    exit_code = 2


class TrainingUnavailable(MailError):
    """Raised when `mail train` runs without scikit-learn installed (the `[train]` extra)."""
