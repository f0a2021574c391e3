"""Safe output: file names from data, nothing outside the folder, atomic writes, the manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from testdata import EXAMPLES

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


NOTICE = EXAMPLES / "notice.yaml"


def _manifest_writes(monkeypatch: pytest.MonkeyPatch, write: Any) -> None:
    """Route os.write calls to a manifest.jsonl through `write(real_write, fd, data)`."""
    real = os.write

    def routed(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("manifest.jsonl"):
            return int(write(real, fd, bytes(data)))
        return real(fd, data)

    monkeypatch.setattr(os, "write", routed)


def test_a_short_write_never_tears_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compact_docs.rendering.renderer import Renderer

    renderer = Renderer()
    renderer.render(NOTICE, formats=("docx",), out_dir=tmp_path)
    # A nearly full disk: every write of the record is short (os.write returns what it wrote).
    _manifest_writes(monkeypatch, lambda real, fd, data: real(fd, data[:7]))
    renderer.render(NOTICE, formats=("docx",), out_dir=tmp_path / "second")
    renderer.render(NOTICE, formats=("docx",), out_dir=tmp_path, force=True)
    monkeypatch.undo()
    records = read_manifest(tmp_path)
    assert len(records) == 2 and records[0]["files"][0]["name"] == records[1]["files"][0]["name"]
    assert len(read_manifest(tmp_path / "second")) == 1


def test_a_failed_append_leaves_no_letter_and_a_rerun_works(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from compact_docs.rendering.renderer import Renderer

    renderer = Renderer()
    renderer.render(NOTICE, formats=("docx",), out_dir=tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.jsonl").write_bytes((tmp_path / "a" / "manifest.jsonl").read_bytes())
    before = (tmp_path / "b" / "manifest.jsonl").read_bytes()

    def half_then_full(real: Any, fd: int, data: bytes) -> int:
        if not getattr(half_then_full, "done", False):
            half_then_full.done = True  # type: ignore[attr-defined]
            return int(real(fd, data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    _manifest_writes(monkeypatch, half_then_full)
    with pytest.raises(OutputError, match="No space left on device"):
        renderer.render(NOTICE, formats=("docx", "pdf"), out_dir=tmp_path / "b")
    monkeypatch.undo()
    assert (tmp_path / "b" / "manifest.jsonl").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["manifest.jsonl"]
    again = renderer.render(NOTICE, formats=("docx", "pdf"), out_dir=tmp_path / "b")
    assert [p.name for p in again.files] == ["lbb-gr-2024-017_bexley-age-well_notice.docx",
                                             "lbb-gr-2024-017_bexley-age-well_notice.pdf"]
    assert len(read_manifest(tmp_path / "b")) == 2


def test_a_record_after_a_torn_line_starts_a_line_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "manifest.jsonl").write_text('{"kind": "notice"}\n{"kind": "not', encoding="utf-8")
    append_manifest(tmp_path, {"kind": "agreement"})
    lines = (tmp_path / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == ['{"kind": "notice"}', '{"kind": "not', '{"kind": "agreement"}']


def test_a_letter_made_after_the_check_is_never_replaced(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from compact_docs.rendering import renderer as renderer_module

    first = renderer_module.render(NOTICE, formats=("docx",), out_dir=tmp_path)
    letter = first.files[0]
    letter.write_bytes(b"another batch's letter")
    monkeypatch.setattr(renderer_module, "refuse_overwrite", lambda paths, force: None)  # it passed, then...
    with pytest.raises(OutputError, match="already exists"):
        renderer_module.render(NOTICE, formats=("docx",), out_dir=tmp_path)
    assert letter.read_bytes() == b"another batch's letter"
    assert len(read_manifest(tmp_path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [letter.name, "manifest.jsonl"]


def test_the_manifest_is_never_followed_through_a_symlink(tmp_path: Path) -> None:
    from compact_docs.rendering.renderer import render

    outside = tmp_path / "outside.jsonl"
    outside.write_text("precious\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        render(NOTICE, formats=("docx",), out_dir=out)
    assert outside.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl"]
    with pytest.raises(OutputError, match="symbolic link"):
        target_path(out, "manifest.jsonl")


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o077, 0o600)])
def test_a_letter_and_its_manifest_follow_the_umask(umask: int, mode: int, tmp_path: Path) -> None:
    import stat

    from compact_docs.rendering.renderer import render

    old = os.umask(umask)
    try:
        result = render(NOTICE, formats=("docx",), out_dir=tmp_path)
    finally:
        os.umask(old)
    for path in (result.files[0], tmp_path / "manifest.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_a_long_reference_never_pushes_the_organisation_and_kind_out() -> None:
    stem = letter_stem("LBB-" + "9" * 200, "Bexley Age Well", "notice")
    assert len(stem) <= 120 and stem.endswith("_bexley-age-well_notice")
    other = letter_stem("LBB-" + "9" * 199 + "8", "Bexley Age Well", "notice")
    assert other != stem and other.endswith("_bexley-age-well_notice")
    both = letter_stem("R" * 300, "O" * 300, "escalation-stage-2")
    assert len(both) == 120 and both.endswith("_escalation-stage-2") and "_ooo" in both


@pytest.mark.parametrize(("organisation", "stem"), [
    ("Ελληνική Κοινότητα", "lbb-1_greek-31a75c3f_notice"),
    ("Общество", "lbb-1_cyrillic-d971f141_notice"),
    ("東京クラブ", "lbb-1_cjk-feb73ca2_notice"),
    ("Straße Øresund Łódź", "lbb-1_strasse-oresund-lodz_notice"),
])
def test_a_non_ascii_organisation_still_names_the_file(organisation: str, stem: str) -> None:
    assert letter_stem("LBB-1", organisation, "notice") == stem


def test_a_non_ascii_organisation_names_the_letter_file(tmp_path: Path) -> None:
    import yaml

    from compact_docs.rendering.renderer import render

    data = yaml.safe_load(NOTICE.read_text(encoding="utf-8"))
    data["organisation"]["name"] = "Ελληνική Κοινότητα"
    data["funding"]["reference"] = "Κ-1"
    result = render(data, formats=("docx",), out_dir=tmp_path)
    assert result.files[0].name == "1_greek-31a75c3f_notice.docx"  # not just notice.docx
