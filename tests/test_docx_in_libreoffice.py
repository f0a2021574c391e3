"""Every demo DOCX in a real word processor: LibreOffice (headless) opens and converts it to PDF,
which has the page count of our PDF give or take one, and the same words."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_render import pdf_letter_wording, wording

from compact_docs.examples import example_file
from compact_docs.letters import LetterContext
from compact_docs.loading import parse_text
from compact_docs.renderer import Renderer, file_stem, render_examples

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo letters, and each DOCX converted to PDF by LibreOffice in `converted/` (outside CI
    a machine without LibreOffice skips, saying what to install; under CI=true it fails)."""
    if SOFFICE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is missing: tests/system-packages.sh installs "
                        "libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) is not installed: tests/system-packages.sh installs "
                    "libreoffice-writer-nogui")
    folder = tmp_path_factory.mktemp("word-processor")
    render_examples(folder / "demo")
    documents = sorted(str(p) for p in (folder / "demo").glob("*.docx"))
    subprocess.run([SOFFICE, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder / "converted"), *documents],
                   check=True, capture_output=True, timeout=600)
    return folder


def contexts() -> dict[str, LetterContext]:
    renderer = Renderer()
    found = {}
    for name in ("notice", "service-change", "funding-end-plan", "escalation-stage-1",
                 "escalation-stage-2", "escalation-stage-3", "agreement"):
        data = parse_text(example_file(name).read_text(encoding="utf-8"), f"{name}.yaml")
        context = renderer.prepare(data).context
        found[file_stem(context)] = context
    return found


CONTEXTS = contexts()


@pytest.mark.parametrize("stem", sorted(CONTEXTS))
def test_libreoffice_opens_the_docx_with_the_pdfs_pages_and_words(converted: Path, stem: str) -> None:
    ours = PdfReader(str(converted / "demo" / f"{stem}.pdf"))
    theirs_path = converted / "converted" / f"{stem}.pdf"
    assert theirs_path.is_file(), f"LibreOffice could not open {stem}.docx"
    theirs = PdfReader(str(theirs_path))
    assert abs(len(theirs.pages) - len(ours.pages)) <= 1
    context = CONTEXTS[stem]
    # the same words as our PDF, in the same order (LibreOffice's bullets are a Symbol-font glyph)
    said = pdf_letter_wording(theirs_path, context).replace("\uf0b7", "")
    assert said == pdf_letter_wording(converted / "demo" / f"{stem}.pdf", context)
    assert wording(context.blocks[-1].words()) in said            # down to the signature
