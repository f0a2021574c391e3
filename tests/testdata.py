"""What tests share that is not a fixture: where their files are, and their clock."""

from __future__ import annotations

import mailbox
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout."""
DATA = ROOT / "tests" / "data"
MAIL = DATA / "mail"
"""The mail configuration, the labelled messages, threads and scenarios."""
BATCH = DATA / "batch"
LETTERS = DATA / "letters"
HOSTILE_LETTERS = DATA / "hostile" / "letters"
EXAMPLES = ROOT / "compact_docs" / "examples"
PROFILES = ROOT / "compact_docs" / "profiles"

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
"""The tests' "now": a register's stamps and references, acknowledgements' dates."""


class Clock:
    """A settable clock, so a register's references and stamps are predictable (NOW to start with)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_mailbox(kind: str, path: Path, files: Iterable[Path]) -> Path:
    """An mbox file (`kind` 'mbox') or a Maildir folder ('maildir') at `path`, holding these
    message files in order."""
    box = mailbox.mbox(path) if kind == "mbox" else mailbox.Maildir(path)
    for file in files:
        box.add(file.read_bytes())
    box.close()
    return path
