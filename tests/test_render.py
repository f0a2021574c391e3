"""Rendering letters: the DOCX and PDF of every example, same wording, tags, archival, refusal."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from conftest import DATA
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

import compact_docs
from cli import cli
from compact_docs.errors import ComplianceError, OutputError
from compact_docs.letters import LetterContext
from compact_docs.output import read_manifest
from compact_docs.renderer import Renderer, letter_data_json

LETTERS = DATA / "letters"
EXPECTED_STEMS = [
    "thamesmead-youth-theatre_agreement",
    "crayford-community-larder_escalation-stage-1",
    "bxc-2026-0007_bexley-age-well_escalation-stage-2",
    "bxc-2026-0007_bexley-age-well_escalation-stage-3",
    "lbb-gr-2024-017_bexley-age-well_funding-end-plan",
    "lbb-gr-2024-017_bexley-age-well_notice",
    "lbb-fsf-2025-004_crayford-community-larder_service-change",
]


def docx_text(path: Path | bytes) -> str:
    """The body text of a DOCX in reading order (paragraphs and table cells), one line."""
    document = docx.Document(io.BytesIO(path) if isinstance(path, bytes) else str(path))
    parts: list[str] = []
    for element in document.element.body.iterchildren():
        if element.tag.endswith("}p"):
            parts.append(Paragraph(element, document).text)
        elif element.tag.endswith("}tbl"):
            parts += [cell.text for row in Table(element, document).rows for cell in row.cells]
    return " ".join(" ".join(parts).split())


def pdf_text(path: Path | bytes) -> str:
    """All the text of a PDF, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(path) if isinstance(path, bytes) else str(path))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def wording(text: str) -> str:
    """Text with every space and line break taken out: blind to where a line or page broke
    (a PDF's text gains a space wherever a line ends, "step- free", "commissioner/ Head")."""
    return "".join(text.split())


def pdf_letter_wording(path: Path, context: LetterContext) -> str:
    """A PDF's wording (see `wording`) without the page furniture (running header, footer, page
    numbers, bullets) and without table headers repeated on a new page."""
    text = wording(pdf_text(path).replace("•", " "))
    for furniture in (context.footer, context.running_header):
        text = text.replace(wording(furniture), "")
    text = re.sub(r"Page\d+of\d+", "", text)
    for block in context.blocks:
        if block.type == "table":
            header = wording(" ".join(block.header))
            first = text.find(header) + len(header)
            text = text[:first] + text[first:].replace(header, "")
    return text


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`compact-docs demo` run once for the whole module: every kind and stage, DOCX and PDF."""
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def contexts() -> dict[str, LetterContext]:
    from compact_docs.examples import example_files
    from compact_docs.loading import parse_text

    renderer = Renderer()
    found = {}
    for example in example_files():
        prepared = renderer.prepare(parse_text(example.read_text(encoding="utf-8"), example.name))
        found[example.name] = prepared.context
    return found


def test_demo_writes_every_kind_and_stage_as_docx_and_pdf(demo_folder: tuple[Path, str]) -> None:
    out, printed = demo_folder
    expected = sorted(f"{stem}.{ext}" for stem in EXPECTED_STEMS for ext in ("docx", "pdf"))
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".docx", ".pdf")) == expected
    assert sorted(Path(line).name for line in printed.splitlines()) == expected
    records = read_manifest(out)
    assert len(records) == len(EXPECTED_STEMS)
    assert {r["kind"] for r in records} == set(compact_docs.KINDS)
    assert sorted(r["stage"] for r in records if r["kind"] == "escalation") == [1, 2, 3]


def test_docx_and_pdf_of_every_letter_have_the_same_wording(
    demo_folder: tuple[Path, str]
) -> None:
    out, _ = demo_folder
    by_name = {c.kind + (f"-stage-{c.stage}" if c.stage else ""): c for c in contexts().values()}
    for stem in EXPECTED_STEMS:
        kind = stem.split("_")[-1]
        context = by_name[kind]
        in_docx = docx_text(out / f"{stem}.docx")
        assert wording(in_docx) == pdf_letter_wording(out / f"{stem}.pdf", context), stem
        assert context.title in in_docx


def test_docx_is_a_styled_editable_letter(demo_folder: tuple[Path, str]) -> None:
    out, _ = demo_folder
    document = docx.Document(str(out / "lbb-gr-2024-017_bexley-age-well_notice.docx"))
    styles = [p.style.name for p in document.paragraphs]
    assert styles[0] == "Letterhead"
    assert styles.count("Heading 1") == 1 and styles.count("Heading 2") >= 8
    assert "List Bullet" in styles
    assert document.core_properties.title.startswith("Notice of the end of funding")
    assert document.core_properties.language == "en-GB"
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    footer_xml = section.footer._element.xml
    assert 'w:instr="PAGE"' in footer_xml and 'w:instr="NUMPAGES"' in footer_xml
    assert "Bexley Compact notice" in section.footer.paragraphs[0].text
    assert section.header.paragraphs[0].text == "Bexley Age Well · LBB-GR-2024-017"
    assert "{{" not in docx_text(out / "lbb-gr-2024-017_bexley-age-well_notice.docx")


def test_pdf_is_tagged_a4_with_title_language_and_page_numbers(
    demo_folder: tuple[Path, str]
) -> None:
    out, _ = demo_folder
    path = out / "lbb-gr-2024-017_bexley-age-well_notice.pdf"
    reader = PdfReader(str(path))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en-GB"
    assert reader.metadata is not None
    assert reader.metadata.title == ("Notice of the end of funding: Community Connect grant, "
                                     "Bexley Age Well")
    assert b'pdfuaid:part="1"' in reader.xmp_metadata.stream.get_data()  # type: ignore[union-attr]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    pages = len(reader.pages)
    text = pdf_text(path)
    for number in range(1, pages + 1):
        assert f"Page {number} of {pages}" in text
    tags = _structure_tags(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/L", "/LI", "/Table", "/TH", "/P"} <= tags


def _structure_tags(node: Any, seen: set[str] | None = None, depth: int = 0) -> set[str]:
    seen = set() if seen is None else seen
    node = node.get_object() if hasattr(node, "get_object") else node
    if depth > 60:
        return seen
    if isinstance(node, dict):
        if "/S" in node:
            seen.add(str(node["/S"]))
        kids = node.get("/K")
        if kids is not None:
            for kid in kids if isinstance(kids, list) else [kids]:
                _structure_tags(kid, seen, depth + 1)
    return seen


def test_archival_pdf_is_pdfa_3b_with_the_data_attached(
    example: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    result = compact_docs.render(example("notice"), formats=("pdf",), out_dir=tmp_path,
                                 archival=True)
    [pdf] = result.files
    reader = PdfReader(str(pdf))
    xmp = reader.xmp_metadata.stream.get_data()  # type: ignore[union-attr]
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    [(name, [content])] = reader.attachments.items()
    assert name == "lbb-gr-2024-017_bexley-age-well_notice.json"
    attached = json.loads(content)
    assert attached["funding"]["reference"] == "LBB-GR-2024-017"
    assert attached["notice"]["effective"] == "2027-03-01"
    assert result.record["archival"] is True
    assert result.record["data"]["sha256"] == __import__("hashlib").sha256(content).hexdigest()


def test_hostile_values_appear_literally_and_break_nothing(tmp_path: Path) -> None:
    result = compact_docs.render(LETTERS / "hostile-notice.yaml", out_dir=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["lbb-gr-2024-017_etc-passwd-x_notice.docx",
                     "lbb-gr-2024-017_etc-passwd-x_notice.pdf", "manifest.jsonl"]
    in_docx = docx_text(result.files[0])
    in_pdf = pdf_text(result.files[1])
    for literal in ("A & B <C> Council", "{{ 7 * 7 }}", "../../etc/passwd {{ x }}",
                    "</w:t></w:r></w:p><w:p>injected", "{%p if %}", "A & B <C>, {{ x }} and {% if %}",
                    "<script>alert(1)</script>", "]]> & <![CDATA[", "{% for x in y %}loop{% endfor %}",
                    "Jo \"Quote\" Smith", "../LBB/GR\\2024:017"):
        assert literal in in_docx, literal
        assert literal in in_pdf, literal
    assert "49" not in in_docx.split("Street")[1][:20]
    document = docx.Document(str(result.files[0]))
    assert document.core_properties.title.endswith("../../etc/passwd {{ x }}")
    assert document.sections[0].header.paragraphs[0].text.startswith("../../etc/passwd {{ x }}")
    assert "A & B <C> Council" in document.sections[0].footer.paragraphs[0].text


def test_refused_letter_writes_nothing_and_carries_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ComplianceError) as caught:
        compact_docs.render(LETTERS / "refused-notice.yaml", out_dir=out)
    report = caught.value.report
    assert isinstance(report, compact_docs.Report)
    assert {f.code for f in report.errors} == {"NOTICE_PERIOD", "EIA"}
    assert "nothing written" in str(caught.value)
    assert not out.exists()


def test_existing_files_are_not_overwritten_without_force(
    example: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    renderer = Renderer()
    first = renderer.render(example("escalation-stage-1"), formats=("docx",), out_dir=tmp_path)
    before = first.files[0].read_bytes()
    with pytest.raises(OutputError, match="already exists"):
        renderer.render(example("escalation-stage-1"), formats=("docx",), out_dir=tmp_path)
    assert first.files[0].read_bytes() == before
    again = renderer.render(example("escalation-stage-1"), formats=("docx",), out_dir=tmp_path,
                            force=True)
    assert again.files == first.files
    assert len(read_manifest(tmp_path)) == 2
    assert not list(tmp_path.glob(".*.part"))


def test_manifest_records_what_was_made_from_what(tmp_path: Path) -> None:
    result = compact_docs.render(LETTERS / "warned-notice.yaml", formats=("docx",),
                                 out_dir=tmp_path)
    [record] = read_manifest(tmp_path)
    assert record == result.record
    assert record["kind"] == "notice" and record["profile"] == "bexley"
    assert record["templates"][0]["name"] == "letter.docx"
    assert record["templates"][0]["origin"] == "bundled"
    assert len(record["templates"][0]["sha256"]) == 64
    assert record["data"]["source"] == str(LETTERS / "warned-notice.yaml")
    assert len(record["data"]["source_sha256"]) == 64
    assert {f["code"] for f in record["findings"]} == {"RESPONSE_OPPORTUNITY", "FUNDING_TERM", "ENGAGEMENT"}
    assert record["dates"]["notice_given"] == "2026-12-29"
    assert record["files"][0]["name"] == "lbb-gr-2025-002_bexley-age-well_notice.docx"
    assert record["made"].endswith("+00:00")


def test_user_templates_override_the_bundled_ones_by_name(
    example: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    custom = LETTERS / "templates-custom"
    result = compact_docs.render(example("notice"), out_dir=tmp_path, templates=custom)
    assert "Custom notice template for Bexley Age Well" in pdf_text(result.files[1])
    assert "Custom notice template" not in docx_text(result.files[0])
    origins = {(t["format"], t["name"]): t["origin"] for t in result.record["templates"]}
    assert origins[("pdf", "notice.html")] == str(custom)
    assert origins[("pdf", "letter.css")] == "bundled"
    assert origins[("docx", "letter.docx")] == "bundled"


def test_one_renderer_compiles_each_template_once_for_many_letters(
    example: Callable[[str], dict[str, Any]]
) -> None:
    renderer = Renderer()
    assert renderer.docx_template("notice") is renderer.docx_template("escalation", 2)
    assert renderer.html_template("agreement") is renderer.html_template("notice")
    first = renderer.lay_out(renderer.prepare(example("notice")), formats=("docx",))
    second = renderer.lay_out(renderer.prepare(example("service-change")), formats=("docx",))
    assert "Bexley Age Well" in docx_text(first.documents["docx"])
    assert "Crayford Community Larder" in docx_text(second.documents["docx"])
    html = renderer.html(renderer.prepare(example("agreement")).context)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html


def test_letter_data_json_is_canonical(example: Callable[[str], dict[str, Any]]) -> None:
    letter = compact_docs.load_letter(example("notice"))
    assert letter_data_json(letter) == letter_data_json(compact_docs.load_letter(example("notice")))
    assert json.loads(letter_data_json(letter))["kind"] == "notice"


def test_render_from_python_needs_no_kind_when_the_file_says_it(example: Callable[[str], dict[str, Any]],
                                                               tmp_path: Path) -> None:
    data = example("notice")
    del data["kind"]
    path = tmp_path / "notice.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = compact_docs.render(str(path), formats=("docx",), out_dir=tmp_path / "out")
    assert [p.name for p in result.files] == ["lbb-gr-2024-017_bexley-age-well_notice.docx"]
    # a parameter says it too; an existing file is an OutputError that names it, without CLI advice
    with pytest.raises(OutputError) as info:
        compact_docs.render(str(path), formats=("docx",), out_dir=tmp_path / "out", kind="notice")
    assert info.value.existing == (tmp_path / "out" / result.files[0].name).resolve()
    assert "--force" not in str(info.value) and "already exists" in str(info.value)
