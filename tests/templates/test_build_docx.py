"""The committed letter.docx is exactly what templates/build_docx.py builds."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

from testdata import ROOT


def test_committed_docx_template_matches_its_build_script(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_docx", ROOT / "templates" / "build_docx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = tmp_path / "letter.docx"
    module.build(built)
    with zipfile.ZipFile(ROOT / "templates" / "letter.docx") as committed, \
            zipfile.ZipFile(built) as fresh:
        parts = sorted(n for n in fresh.namelist() if n.startswith("word/") and n.endswith(".xml"))
        assert {"word/document.xml", "word/styles.xml", "word/header1.xml",
                "word/footer1.xml"} <= set(parts)
        assert parts == sorted(n for n in committed.namelist()
                               if n.startswith("word/") and n.endswith(".xml"))
        for part in parts:
            assert committed.read(part) == fresh.read(part), part
