"""The PDFs' structure read back with pikepdf: header cells with a /Scope, PDF/UA-1 in every PDF and
PDF/A-3b plus PDF/UA-1 in archival ones.

No PDF/UA validator installs from the package registries here (veraPDF ships from its own site
only), so these are the structure checks the validators make for these points, done with pikepdf.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from compact_docs.examples import example_file
from compact_docs.loading import parse_text
from compact_docs.renderer import PreparedLetter, Renderer

KINDS = ["notice", "funding-end-plan", "agreement", "escalation-stage-2"]


def prepared(name: str) -> PreparedLetter:
    renderer = Renderer()
    return renderer.prepare(parse_text(example_file(name).read_text(encoding="utf-8"), f"{name}.yaml"))


def open_pdf(name: str, archival: bool) -> pikepdf.Pdf:
    letter = prepared(name)
    return pikepdf.open(io.BytesIO(Renderer().pdf(letter, archival=archival)))


def struct_elements(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every structure element, walking down from the structure tree root."""
    stack = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        if kids is None:
            continue
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") in (None, "/StructElem") \
                    and "/S" in kid:
                yield kid
                stack.append(kid)


@pytest.mark.parametrize("archival", [False, True])
@pytest.mark.parametrize("name", KINDS)
def test_every_header_cell_has_a_scope(name: str, archival: bool) -> None:
    pdf = open_pdf(name, archival)
    headers = [e for e in struct_elements(pdf) if e.S == "/TH"]
    assert headers, "each of these letters has a table with header cells"
    for cell in headers:
        assert cell.A.O == "/Table" and cell.A.Scope in ("/Row", "/Column")
        row = cell.P
        assert row.S == "/TR"
        cells = [k.S for k in row.K]
        # a header beside data cells heads its row (scope="row"); a row of headers heads columns
        assert cell.A.Scope == ("/Row" if "/TD" in cells else "/Column")


def test_the_plan_has_row_and_column_headers() -> None:
    scopes = {str(e.A.Scope) for e in struct_elements(open_pdf("funding-end-plan", False)) if e.S == "/TH"}
    assert scopes == {"/Row", "/Column"}


def _ua_basics(pdf: pikepdf.Pdf) -> None:
    assert pdf.Root.MarkInfo.Marked is True
    assert "/StructTreeRoot" in pdf.Root
    assert str(pdf.Root.Lang) == "en-GB"
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
    with pdf.open_metadata() as meta:
        assert meta.get("dc:title")
        assert meta.get("pdfuaid:part") == "1"
    headings = {str(e.S) for e in struct_elements(pdf)}
    assert {"/H1", "/H2", "/P", "/Table"} <= headings


def test_a_plain_pdf_is_pdf_ua_1() -> None:
    pdf = open_pdf("notice", archival=False)
    _ua_basics(pdf)
    with pdf.open_metadata() as meta:
        assert meta.get("pdfaid:part") is None


def test_an_archival_pdf_declares_pdf_a_3b_and_pdf_ua_1() -> None:
    pdf = open_pdf("notice", archival=True)
    _ua_basics(pdf)
    with pdf.open_metadata() as meta:
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
    xmp = bytes(pdf.Root.Metadata.read_bytes())
    # PDF/A lets a file use only XMP properties it declares: the pdfuaid schema is declared
    assert b"<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>" in xmp
    assert b"<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>" in xmp
    assert xmp.count(b"<rdf:RDF") == 1
    # the letter's data rides along as an associated file, and every font is embedded
    names = pdf.Root.Names.EmbeddedFiles.Names
    assert str(names[0]).endswith(".json")
    assert any(str(f.get("/UF", "")).endswith(".json") and f.AFRelationship == "/Data" for f in pdf.Root.AF)
    for page in pdf.pages:
        for font in page.Resources.Font.values():
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            assert "/FontFile2" in descendant.FontDescriptor or "/FontFile3" in descendant.FontDescriptor


def test_the_archival_cli_writes_both(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli

    data = tmp_path / "notice.yaml"
    data.write_text(example_file("notice").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["notice", str(data), "-o", str(tmp_path / "out"), "--format", "pdf",
                                      "--archival"])
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "out" / "lbb-gr-2024-017_bexley-age-well_notice.pdf") as pdf, \
            pdf.open_metadata() as meta:
        assert meta.get("pdfaid:part") == "3" and meta.get("pdfuaid:part") == "1"
