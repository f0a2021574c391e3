"""Writing letters safely: file names from the data, no escape from the folder, a manifest."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from compact_docs.errors import OutputError

MANIFEST_NAME = "manifest.jsonl"
"""One JSON record a line, appended for every letter written to the folder."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120


_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"})
"""Latin letters that Unicode does not decompose to ASCII ones."""


def safe_part(text: str) -> str:
    """A piece of a file name: ASCII letters, digits, '.', '_' and '-', never '..' or a leading dot.

    'Bexley Age Well' -> 'bexley-age-well'; '../../etc/passwd' -> 'etc-passwd'.
    """
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LATIN)).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_text.lower())
    slug = re.sub(r"\.{2,}", ".", slug)
    slug = re.sub(r"-{2,}", "-", slug)
    return slug.strip(".-_")


def _name_part(text: str) -> str:
    """safe_part, or for text with no ASCII letters left in it (a name all in Greek, Arabic or
    Chinese) its script and a short hash: 'Ελληνική Κοινότητα' -> 'greek-1c0e3b2a'."""
    slug = safe_part(text)
    letters = [ch for ch in text if ch.isalnum()]
    if slug or not letters:
        return slug
    script = unicodedata.name(letters[0], "text").split()[0].lower()
    digest = hashlib.sha256(unicodedata.normalize("NFC", text.strip()).encode("utf-8")).hexdigest()[:8]
    return f"{safe_part(script) or 'text'}-{digest}"


def _fitted(pieces: list[str], budget: int) -> list[str]:
    """Cut the longest pieces until all fit `budget` characters, each keeping a fair share (so a
    long reference never pushes the organisation and kind out); a cut piece ends with a short
    hash of itself, so two long references that differ only at the end still differ."""
    shares: dict[int, int] = {}
    remaining = budget
    by_length = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
    for n, index in enumerate(by_length):
        shares[index] = min(len(pieces[index]), remaining // (len(by_length) - n))
        remaining -= shares[index]
    fitted = []
    for index, piece in enumerate(pieces):
        if len(piece) <= shares[index]:
            fitted.append(piece)
            continue
        digest = hashlib.sha256(piece.encode("utf-8")).hexdigest()[:8]
        head = piece[: max(shares[index] - len(digest) - 1, 0)].rstrip(".-_")
        fitted.append(f"{head}-{digest}" if head else digest)
    return fitted


def letter_stem(*parts: str) -> str:
    """A file name stem from the letter's reference, organisation and kind, each made safe.

    At most 120 characters: when the parts are longer, each is cut to its share rather than the
    last ones being lost.
    """
    pieces = [p for p in (_name_part(part) for part in parts) if p]
    stem = "_".join(_fitted(pieces, _MAX_STEM - max(len(pieces) - 1, 0))).strip(".-_")
    if not stem:
        raise OutputError("cannot make a file name: the reference, organisation and kind are blank")
    return stem


def target_path(out_dir: Path, file_name: str) -> Path:
    """The path of `file_name` inside `out_dir`; OutputError if it would land anywhere else.

    A name that is already a symbolic link is refused: nothing is ever written through one.
    """
    if file_name != Path(file_name).name or file_name in ("", ".", ".."):
        raise OutputError(f"unsafe output file name {file_name!r}")
    folder = out_dir.resolve()
    path = folder / file_name
    if path.is_symlink():
        raise OutputError(f"{path} is a symbolic link; refusing to write through it")
    if path.resolve().parent != folder:
        raise OutputError(f"output file {file_name!r} would be written outside {out_dir}")
    return path


def prepare_folder(out_dir: str | Path) -> Path:
    """Create the output folder if needed; OutputError if it is not a usable folder."""
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror or exc}") from exc
    if not folder.is_dir():
        raise OutputError(f"output path {folder} is not a folder")
    return folder


def refuse_overwrite(paths: Iterable[Path], force: bool) -> None:
    """OutputError naming the first file that exists (a dangling link too), unless `force`."""
    if force:
        return
    for path in paths:
        if os.path.lexists(path):
            raise OutputError(f"{path} already exists", existing=path)


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_MODE = 0o666
"""Files are created 0666 less the umask, as any program's are: in a group folder (umask 002) a
colleague can replace a letter or add to the manifest."""


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may be short on a nearly full disk)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _temporary(path: Path, content: bytes) -> Path:
    """`content` in a new hidden file beside `path` (never through a link), to be put in place."""
    for _ in range(100):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            fd = os.open(temp, _NEW_FILE, _MODE)
        except FileExistsError:
            continue
        try:
            _write_all(fd, content)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return temp
    raise OSError(errno.EEXIST, f"cannot find a free temporary name beside {path.name}")


def _place_new(temp: Path, path: Path) -> None:
    """Give `temp` the name `path` only if nothing has that name (FileExistsError otherwise)."""
    try:
        os.link(temp, path, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: create the name exclusively and copy the bytes in.
        fd = os.open(path, _NEW_FILE, _MODE)
        try:
            _write_all(fd, temp.read_bytes())
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
    temp.unlink(missing_ok=True)


def write_atomic(path: Path, content: bytes) -> None:
    """Write a file all at once: a reader never sees half a letter.

    An existing file (or a symbolic link) of that name is replaced, never written through.
    """
    try:
        temp = _temporary(path, content)
        try:
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _open_manifest(out_dir: Path) -> tuple[int, Path]:
    path = out_dir / MANIFEST_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, _MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise OutputError(f"{path} is a symbolic link; refusing to follow it") from exc
        raise OutputError(f"cannot append to {path}: {exc.strerror or exc}") from exc
    return fd, path


def _manifest_line(fd: int, record: dict[str, Any]) -> tuple[int, bytes]:
    """The manifest's size now, and the record's line (on a line of its own if the last was cut)."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        line = b"\n" + line
    return size, line


def append_manifest(out_dir: Path, record: dict[str, Any]) -> Path:
    """Append one record to the folder's manifest (JSON Lines): the whole line, or nothing."""
    write_letter(out_dir, [], record, force=True)
    return out_dir / MANIFEST_NAME


def _append_and_place(fd: int, manifest: Path, record: dict[str, Any],
                      written: list[tuple[Path, Path]], force: bool) -> None:
    """With the manifest locked: append the record whole, then give each file its name; on any
    failure take back what was done."""
    size, line = _manifest_line(fd, record)
    try:
        _write_all(fd, line)
    except OSError as exc:
        os.ftruncate(fd, size)
        raise OutputError(f"cannot append to {manifest}: {exc.strerror or exc}; nothing was "
                          "written") from exc
    placed: list[Path] = []
    for temp, path in written:
        try:
            if force:
                os.replace(temp, path)
            else:
                _place_new(temp, path)
                placed.append(path)
        except OSError as exc:
            for done in placed:
                done.unlink(missing_ok=True)
            os.ftruncate(fd, size)
            if isinstance(exc, FileExistsError):
                raise OutputError(f"{path} already exists", existing=path) from exc
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_letter(out_dir: Path, files: Sequence[tuple[Path, bytes]], record: dict[str, Any],
                 force: bool = False) -> Path:
    """Write a letter's files and append its record to the folder's manifest, together or not at all.

    Each file is written beside its name first; then, holding the manifest's lock, the record is
    appended whole and the files take their names. A file that appeared meanwhile (another batch
    into the same folder) is never replaced unless `force`: OutputError "already exists", and the
    record is taken back. A failed or short append leaves the manifest as it was and no letter.
    """
    written: list[tuple[Path, Path]] = []
    try:
        for path, content in files:
            try:
                written.append((_temporary(path, content), path))
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        fd, manifest = _open_manifest(out_dir)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _append_and_place(fd, manifest, record, written, force)
        finally:
            os.close(fd)  # and so unlock
    finally:
        for temp, _ in written:
            temp.unlink(missing_ok=True)
    return manifest


def read_manifest(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every record of a folder's manifest, oldest first (empty if there is none)."""
    path = Path(out_dir) / MANIFEST_NAME
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise OutputError(f"{path}, line {number}: not a JSON record") from exc
    return records
