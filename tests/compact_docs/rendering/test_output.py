"""Safe output: file names from data, nothing outside the folder, atomic writes, the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compact_docs.errors import OutputError
from compact_docs.rendering.output import (
    append_manifest,
    letter_stem,
    read_manifest,
    refuse_overwrite,
    safe_part,
    target_path,
    write_atomic,
)


@pytest.mark.parametrize(("raw", "safe"), [
    ("Bexley Age Well", "bexley-age-well"),
    ("../../etc/passwd", "etc-passwd"),
    ("LBB/GR\\2024:017", "lbb-gr-2024-017"),
    ("Café & Crèche <Ltd>", "cafe-creche-ltd"),
    ("...", ""),
    ("a..b", "a.b"),
])
def test_safe_part(raw: str, safe: str) -> None:
    assert safe_part(raw) == safe


@given(st.text(max_size=300), st.text(max_size=300))
def test_any_stem_stays_inside_the_folder(reference: str, organisation: str) -> None:
    try:
        stem = letter_stem(reference, organisation, "notice")
    except OutputError:
        return
    assert "/" not in stem and "\\" not in stem and ".." not in stem
    assert not stem.startswith(".") and len(stem) <= 120
    folder = Path("/tmp/letters-out")
    assert target_path(folder, f"{stem}.pdf").parent == folder.resolve()


def test_unsafe_names_are_refused(tmp_path: Path) -> None:
    for name in ("../x.pdf", "a/b.pdf", "..", "", "/etc/passwd"):
        with pytest.raises(OutputError):
            target_path(tmp_path, name)
    with pytest.raises(OutputError, match="blank"):
        letter_stem("", "...", "")


def test_existing_files_are_refused_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    write_atomic(path, b"first")
    with pytest.raises(OutputError, match="already exists"):
        refuse_overwrite([path], force=False)
    refuse_overwrite([path], force=True)
    write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["a.docx"]


def test_manifest_is_appended_one_record_a_line(tmp_path: Path) -> None:
    append_manifest(tmp_path, {"kind": "notice", "n": 1})
    append_manifest(tmp_path, {"kind": "agreement", "n": 2, "name": "Café"})
    assert read_manifest(tmp_path) == [{"kind": "notice", "n": 1},
                                       {"kind": "agreement", "n": 2, "name": "Café"}]
    assert read_manifest(tmp_path / "empty") == []
    (tmp_path / "manifest.jsonl").write_text("{broken\n", encoding="utf-8")
    with pytest.raises(OutputError, match="line 1"):
        read_manifest(tmp_path)
