"""Reading raw messages, in order, from an mbox file, a Maildir folder or a single .eml file."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from compact_docs.data_files import not_a_file
from compact_docs.errors import MailError

_MBOX_START = b"From "


@dataclass(frozen=True)
class RawMessage:
    """The bytes of one message and where they came from ('inbox.mbox#3', 'Maildir/new/1700...')."""

    source: str
    data: bytes


def read_eml(path: str | Path) -> RawMessage:
    """One message file."""
    path = Path(path)
    try:
        return RawMessage(str(path), path.read_bytes())
    except OSError as exc:
        raise MailError(not_a_file(path, exc, "message file") or f"cannot read {path}: {exc.strerror or exc}") from exc


def read_mbox(path: str | Path) -> Iterator[RawMessage]:
    """The messages of an mbox file, in file order (a missing file is reported at once)."""
    path = Path(path)
    if not path.is_file():
        raise MailError(f"{path}: no such mbox file")
    try:
        with path.open("rb") as file:
            start = file.read(len(_MBOX_START))
    except OSError as exc:
        raise MailError(f"cannot read {path}: {exc.strerror or exc}") from exc
    # An empty file is an empty mailbox; anything else must open with a "From " separator, or
    # Python's mailbox module would drop the text before it (or the whole file) without a word.
    if start and start != _MBOX_START:
        raise MailError(f"{path} is not an mbox file: it does not start with a 'From ' line")
    return _mbox_messages(path)


_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def unescape_from_lines(data: bytes) -> bytes:
    """A message's body lines as written: '>From ' back to 'From ' (mboxrd's escaping, one level).

    Python's mailbox module leaves the escaping in, and a line that starts '>From ' would then
    read as quoted history.
    """
    return _ESCAPED_FROM.sub(rb"\1", data) if b">From " in data else data


def _mbox_messages(path: Path) -> Iterator[RawMessage]:
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield RawMessage(f"{path}#{number}", unescape_from_lines(box.get_bytes(key)))
    except (OSError, mailbox.Error) as exc:
        raise MailError(f"cannot read the mbox {path}: {exc}") from exc
    finally:
        box.close()


def _delivery_order(path: Path) -> list[tuple[int, str]]:
    # Maildir names start "seconds.M<microseconds>P<pid>Q<count>": comparing their numbers as
    # numbers (not text) puts messages in the order they were delivered.
    name = path.name.split(":", 1)[0]
    return [(int(piece), "") if piece.isdigit() else (-1, piece)
            for piece in re.split(r"(\d+)", name) if piece]


def read_maildir(path: str | Path) -> Iterator[RawMessage]:
    """The messages of a Maildir folder (new/ and cur/), oldest delivery first by file name."""
    path = Path(path)
    if not all((path / sub).is_dir() for sub in ("new", "cur")):
        raise MailError(f"{path}: not a Maildir folder (it needs new/ and cur/ inside)")
    return _maildir_messages(path)


def _maildir_messages(path: Path) -> Iterator[RawMessage]:
    files = [p for sub in ("cur", "new") for p in (path / sub).iterdir()
             if p.is_file() and not p.name.startswith(".")]
    for file in sorted(files, key=_delivery_order):
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            continue  # moved by another client while we read the folder
        except OSError as exc:
            raise MailError(f"cannot read {file}: {exc.strerror or exc}") from exc
        yield RawMessage(f"{path.name}/{file.parent.name}/{file.name}", data)
