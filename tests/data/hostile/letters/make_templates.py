"""Rebuild the hostile DOCX templates in this folder from the bundled letter.docx.

    python tests/data/hostile/letters/make_templates.py

The HTML, CSS, YAML and CSV files beside them are written by hand.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

from docx import Document

HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parents[3] / "templates" / "letter.docx"
CODE = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def code_template() -> None:
    """A DOCX template whose first paragraph runs a shell command when not sandboxed."""
    document = Document(str(BUNDLED))
    document.paragraphs[0].insert_paragraph_before(CODE)
    (HERE / "templates-code").mkdir(exist_ok=True)
    document.save(str(HERE / "templates-code" / "notice.docx"))


def _with_document_xml(document_xml: bytes) -> tuple[bytes, zipfile.ZipInfo]:
    out = io.BytesIO()
    with zipfile.ZipFile(BUNDLED) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            content = document_xml if info.filename == "word/document.xml" else source.read(info)
            package.writestr(info.filename, content, compresslevel=9)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as package:
        return out.getvalue(), package.getinfo("word/document.xml")


def bomb_template() -> None:
    """A zip bomb: word/document.xml padded with 200 MB of spaces (packs to about 200 kB)."""
    with zipfile.ZipFile(BUNDLED) as source:
        xml = source.read("word/document.xml")
    padded = xml.replace(b"<w:body>", b"<w:body>" + b" " * (200 * 1024 * 1024), 1)
    data, _ = _with_document_xml(padded)
    (HERE / "templates-bomb").mkdir(exist_ok=True)
    (HERE / "templates-bomb" / "notice.docx").write_bytes(data)


class _Header(NamedTuple):
    """Where a zip header keeps a file's name, CRC-32 and uncompressed size, from its signature."""

    signature: bytes
    name: int
    crc: int
    size: int


_HEADERS = (_Header(b"PK\x03\x04", name=30, crc=14, size=22),  # each file's local header
            _Header(b"PK\x01\x02", name=46, crc=16, size=24))  # its entry in the central directory


def lying_template() -> None:
    """A zip bomb whose headers lie: word/document.xml says it unpacks to its real XML's size (and
    CRC), but its deflate stream goes on to 200 MB more spaces."""
    with zipfile.ZipFile(BUNDLED) as source:
        xml = source.read("word/document.xml")
    padded = xml.replace(b"<w:body>", b"<w:body>" + b" " * (200 * 1024 * 1024), 1)
    data = bytearray(_with_document_xml(padded)[0])
    honest_size, honest_crc = len(xml), zlib.crc32(padded[: len(xml)])
    name = b"word/document.xml"
    for header in _HEADERS:
        start = data.find(header.signature)
        while start != -1:
            if data[start + header.name: start + header.name + len(name)] == name:
                struct.pack_into("<I", data, start + header.crc, honest_crc)
                struct.pack_into("<I", data, start + header.size, honest_size)
            start = data.find(header.signature, start + 4)
    (HERE / "templates-bomb-lying").mkdir(exist_ok=True)
    (HERE / "templates-bomb-lying" / "notice.docx").write_bytes(bytes(data))


if __name__ == "__main__":
    code_template()
    bomb_template()
    lying_template()
