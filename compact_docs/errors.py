"""The one error hierarchy of compact-docs: every failure a user can cause is a CompactError."""

from __future__ import annotations


class CompactError(Exception):
    """Base of every error compact-docs raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class InvalidData(CompactError):
    """Raised when a data file cannot be read or does not fit its letter kind's model.

    The message names the file, the field (as a dotted path) and the problem.
    """

    exit_code = 2


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
    """Raised when an output file cannot be written safely (it exists, or escapes its folder)."""

    exit_code = 2


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
