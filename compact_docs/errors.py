"""The one error hierarchy of compact-docs: every failure a user can cause is a CompactError.

::

    CompactError                 exit code 1; the CLI prints any of these as one line
    ├── InvalidData              2   a data file or rows file that cannot be read or is not valid
    ├── ProfileError             2   a Compact profile that is unknown, unreadable or malformed
    ├── ComplianceError          1   a letter refused because a check found an error (has .report)
    ├── TemplateError            2   a template that is missing, malformed or fails to render
    ├── OutputError              2   a file that exists, or a name that would leave its folder
    ├── RegisterError            2   a case register that cannot be opened, or a refused case change
    ├── ConfigError              2   a mail configuration that is missing or malformed
    └── MailError                2   a mailbox or mail server that cannot be read, reached or written
        ├── Disconnected         2   the server dropped the session or cannot be reached (retry later)
        ├── MalformedResponse    2   the server's answer could not be parsed (the session stays usable)
        ├── TrainingUnavailable  2   `mail train` without scikit-learn (the [train] extra)
        └── SmtpRefused          2   the SMTP server refused a message (.permanent for a 5xx reply)

Errors from the libraries underneath (pydantic, docxtpl, WeasyPrint, imaplib, smtplib, sqlite3)
are wrapped where they enter, ``raise TemplateError(...) from exc``, so callers catch these only.

Four more are signals raised inside a library's parsing or fetching and caught where it returns,
so a caller never sees them. Three are ValueErrors because of where they are raised: pydantic
reports a validator's ValueError as that field's problem, WeasyPrint's fetch is to raise one for a
URL it may not read, and the data file parsers' refusals stand with the parsers' own ValueErrors::

    ValueError
    ├── FieldProblem             a model's own rule about one field (.path): validation names the field
    ├── DataRefused              a data file nested too deep, aliases expanding too far, a key twice
    │                            (loading raises InvalidData naming the file)
    └── FetchRefused             a URL a template may not use (WeasyPrint's fetch; the PDF leaves it out)
    Exception
    └── TooManyMimeParts         a message of too many, or too deeply nested, MIME parts (mime_tree then
                                 reads its header, and its body as plain text)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compact_docs.rules.checks import Report


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

    ``report`` is the compliance report, so a caller can show every finding.
    """

    exit_code = 1

    def __init__(self, message: str, report: Report | None = None) -> None:
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


class Disconnected(MailError):
    """Raised when a mail server cannot be reached or drops the session (BYE, EOF, reset, timeout,
    SMTP 421).

    Reconnecting later may succeed: the watcher reconnects with backoff and catches up, and an
    acknowledgement is tried again later.
    """


class MalformedResponse(MailError):
    """Raised when an IMAP server's answer to a command cannot be parsed; the session stays usable.

    The text never quotes the answer, which may hold other messages' content.
    """


class SmtpRefused(MailError):
    """Raised when the SMTP server refuses a message: its sender, every recipient, or its content.

    ``permanent`` is set for a 5xx reply (RFC 5321 section 4.2.1): sending the same message
    again will be refused again. ``replies`` holds the refused recipients' replies, if any.
    """

    def __init__(self, text: str, *, permanent: bool, replies: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.permanent = permanent
        self.replies = dict(replies or {})


class TrainingUnavailable(MailError):
    """Raised when `mail train` runs without scikit-learn installed (the `[train]` extra)."""


class FieldProblem(ValueError):
    """Raised by a model's own rule about one of its fields: `path` is relative to the model.

    A ValueError, so that pydantic reports it as the field's problem (compact_docs.validation
    adds `path` to the field's place).
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class DataRefused(ValueError):
    """Data a data file may not hold (said in plain words, with its line): nesting too deep, aliases
    that expand too far, a key twice. Raised inside the YAML and JSON parsers; compact_docs.loading
    turns it into InvalidData naming the file."""


class FetchRefused(ValueError):
    """Raised inside WeasyPrint's fetch for a URL a template may not use (WeasyPrint catches it)."""


class TooManyMimeParts(Exception):
    """Raised by the mail parser at a message's MAX_MIME_PARTS + 1st part, or MAX_MIME_DEPTH + 1st
    level; mailflows.mime_tree then reads the message's header, and its body as plain text."""
