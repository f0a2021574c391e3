"""Reading data files: a size cap checked before reading, and one text encoding for a whole file."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from compact_docs.errors import InvalidData

MAX_DATA_FILE_BYTES = 1024 * 1024
"""The largest letter data file (or --defaults file) read: a letter's data is a few kB."""

MAX_ROWS_FILE_BYTES = 32 * 1024 * 1024
"""The largest rows file read (a grants register of 30,000 rows is about 15 MB)."""

_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
"""A character of more than one byte in UTF-8: its presence shows a file meant to be UTF-8."""


def read_capped(path: str | Path, limit: int, what: str = "data file") -> bytes:
    """A file's bytes, refused (InvalidData) before reading when it is larger than `limit`.

    Reads at most `limit` + 1 bytes, so a file that grows, or a device, is refused too.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size > limit:
                raise InvalidData(f"{path}: the {what} is {_size(size)}, more than the {_size(limit)} "
                                  f"a {what} may be")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InvalidData(not_a_file(path, exc, what) or f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InvalidData(f"{path}: the {what} is more than the {_size(limit)} a {what} may be")
    return data


def not_a_file(path: str | Path, exc: OSError, what: str) -> str | None:
    """Why a file could not be opened, when it is not there to read: '<path>: no such <what>', or
    '<path>: is a folder, not a <what>'; None for any other failure (no permission, a disk error)."""
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such {what}"
    if isinstance(exc, IsADirectoryError):
        return f"{path}: is a folder, not a {what}"
    return None


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def _line(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_text(raw: bytes, source: str) -> str:
    """Text in the one encoding the whole file is in, never guessed line by line.

    UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or Windows-1252
    (Excel's older "CSV" on a UK machine) when no line of the file is UTF-8. A file that mixes
    them, or holds a byte that is text in none of them, is refused naming the line: nothing is
    replaced by U+FFFD or read as mojibake.
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InvalidData(f"{source}: the file is UTF-32; save it as UTF-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
            raise InvalidData(f"{source}: line {line} is not UTF-16 text, though the file starts as "
                              "UTF-16; save it again as UTF-8") from exc
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + len(raw) - len(body)
        bad = f"line {_line(raw, offset)} (byte 0x{raw[offset]:02X})"
        utf8 = _UTF8_SEQUENCE.search(raw)
        if body is not raw or utf8 is not None:
            also = f"line {_line(raw, utf8.start())} is" if utf8 is not None else "the file starts as"
            raise InvalidData(f"{source}: {bad} is not UTF-8, though {also} UTF-8: the file mixes "
                              "encodings; save it again as UTF-8") from exc
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as cp_exc:
            raise InvalidData(f"{source}: line {_line(raw, cp_exc.start)} (byte 0x{raw[cp_exc.start]:02X}) is "
                              "neither UTF-8 nor Windows-1252 text; save the file as UTF-8") from cp_exc
    if "\x00" in text:
        raise InvalidData(f"{source}: line {text.count(chr(10), 0, text.index(chr(0))) + 1} holds a NUL "
                          "byte: is it UTF-16 without a byte-order mark? save it as UTF-8")
    return text
