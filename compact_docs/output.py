"""Writing letters safely: file names from the data, no escape from the folder, a manifest."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compact_docs.errors import OutputError

MANIFEST_NAME = "manifest.jsonl"
"""One JSON record a line, appended for every letter written to the folder."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120


def safe_part(text: str) -> str:
    """A piece of a file name: ASCII letters, digits, '.', '_' and '-', never '..' or a leading dot.

    'Bexley Age Well' -> 'bexley-age-well'; '../../etc/passwd' -> 'etc-passwd'.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_text.lower())
    slug = re.sub(r"\.{2,}", ".", slug)
    slug = re.sub(r"-{2,}", "-", slug)
    return slug.strip(".-_")


def letter_stem(*parts: str) -> str:
    """A file name stem from the letter's reference, organisation and kind, each made safe."""
    pieces = [p for p in (safe_part(part) for part in parts) if p]
    stem = "_".join(pieces)[:_MAX_STEM].strip(".-_")
    if not stem:
        raise OutputError("cannot make a file name: the reference, organisation and kind are blank")
    return stem


def target_path(out_dir: Path, file_name: str) -> Path:
    """The path of `file_name` inside `out_dir`; OutputError if it would land anywhere else."""
    if file_name != Path(file_name).name or file_name in ("", ".", ".."):
        raise OutputError(f"unsafe output file name {file_name!r}")
    folder = out_dir.resolve()
    path = (folder / file_name).resolve()
    if path.parent != folder:
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
    """OutputError naming the first file that exists, unless `force`."""
    if force:
        return
    for path in paths:
        if path.exists():
            raise OutputError(f"{path} already exists", existing=path)


def write_atomic(path: Path, content: bytes) -> None:
    """Write a file all at once: a reader never sees half a letter."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def append_manifest(out_dir: Path, record: dict[str, Any]) -> Path:
    """Append one record to the folder's manifest (JSON Lines, one write per record)."""
    path = out_dir / MANIFEST_NAME
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot append to {path}: {exc.strerror or exc}") from exc
    return path


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
