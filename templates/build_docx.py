"""Builds letter.docx, the bundled docxtpl template, with python-docx: run it after changing it.

    python templates/build_docx.py

The template lays out a letter's blocks (see compact_docs/letters/blocks.py) with Word styles, a
running header from the second page on, and a footer with 'Page X of Y' fields. It looks like the
PDF (templates/letter.css): the letterhead over a rule, then the address, the date and references
and the salutation, each set apart. All spacing is in the styles, never empty paragraphs, so an
officer who edits the letter keeps the look: a block's lines share a style with "space between
paragraphs of the same style" turned off (contextual spacing), so only its last line has the space
below it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
TEAL = RGBColor(0x00, 0x4F, 0x6E)
GREY = RGBColor(0x4A, 0x4A, 0x4A)
FONT = "Liberation Sans"
BLOCK_GAP = Pt(17)
"""The space under an address, the references and a signature: 6 mm, as in letter.css."""
RULE = "004F6E"
HEADER_FILL = "004F6E"
LABEL_FILL = "EEF3F6"
BORDER = "9AA9B1"


def _contextual(style) -> None:  # type: ignore[no-untyped-def]
    """Word's 'Don't add space between paragraphs of the same style': a block's lines sit together
    and only the last one keeps the space after it."""
    ppr = style.element.get_or_add_pPr()
    ppr.append(OxmlElement("w:contextualSpacing"))


def _bottom_rule(style) -> None:  # type: ignore[no-untyped-def]
    """A 2 pt teal rule under the paragraph, like the PDF's letterhead."""
    ppr = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "16"), ("w:space", "8"), ("w:color", RULE)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    for key, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shading.set(qn(key), value)
    properties.append(shading)


def _borders(table) -> None:  # type: ignore[no-untyped-def]
    """Thin grey-blue cell borders, as in the PDF, instead of Table Grid's black."""
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        for key, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "0"), ("w:color", BORDER)):
            line.set(qn(key), value)
        borders.append(line)
    properties.append(borders)


def _font(style, size: float, bold: bool = False, colour: RGBColor | None = None) -> None:  # type: ignore[no-untyped-def]
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    if colour is not None:
        style.font.color.rgb = colour
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _styles(doc) -> None:  # type: ignore[no-untyped-def]
    styles = doc.styles
    normal = styles["Normal"]
    _font(normal, 10.5)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.2
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-GB")
    normal.element.get_or_add_rPr().append(lang)
    for name, size, colour, before in (("Heading 1", 14, TEAL, 12), ("Heading 2", 12, TEAL, 12),
                                       ("Heading 3", 11, GREY, 8)):
        style = styles[name]
        _font(style, size, bold=True, colour=colour)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    _font(styles["List Bullet"], 10.5)
    styles["List Bullet"].paragraph_format.space_after = Pt(3)
    _letterhead_styles(styles, normal)
    _letter_styles(styles, normal)


def _letterhead_styles(styles, normal) -> None:  # type: ignore[no-untyped-def]
    """The sender's name, its details, and the rule under them; the recipient's address."""
    letterhead = styles.add_style("Letterhead", WD_STYLE_TYPE.PARAGRAPH)
    letterhead.base_style = normal
    _font(letterhead, 18, bold=True, colour=TEAL)
    letterhead.paragraph_format.space_after = Pt(2)
    detail = styles.add_style("Letterhead Detail", WD_STYLE_TYPE.PARAGRAPH)
    detail.base_style = normal
    _font(detail, 9, colour=GREY)
    detail.paragraph_format.space_after = Pt(0)
    ruled = styles.add_style("Letterhead Rule", WD_STYLE_TYPE.PARAGRAPH)
    ruled.base_style = detail
    _font(ruled, 9, colour=GREY)
    ruled.paragraph_format.space_after = Pt(23)
    _bottom_rule(ruled)
    address = styles.add_style("Address", WD_STYLE_TYPE.PARAGRAPH)
    address.base_style = normal
    address.paragraph_format.space_after = BLOCK_GAP
    _contextual(address)


def _letter_styles(styles, normal) -> None:  # type: ignore[no-untyped-def]
    """References, closing, table text, signature and the running header and footer."""
    refs = styles.add_style("References", WD_STYLE_TYPE.PARAGRAPH)
    refs.base_style = normal
    refs.paragraph_format.space_after = BLOCK_GAP
    _contextual(refs)
    closing = styles.add_style("Closing", WD_STYLE_TYPE.PARAGRAPH)
    closing.base_style = normal
    closing.paragraph_format.space_before = BLOCK_GAP
    closing.paragraph_format.keep_with_next = True
    cell = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    _font(cell, 10)
    cell.paragraph_format.space_after = Pt(0)
    cell.paragraph_format.line_spacing = 1.0
    sign = styles.add_style("Signature Name", WD_STYLE_TYPE.PARAGRAPH)
    sign.base_style = normal
    _font(sign, 10.5, bold=True)
    sign.paragraph_format.space_before = Pt(40)
    sign.paragraph_format.space_after = Pt(0)
    sign.paragraph_format.keep_with_next = True
    sign_detail = styles.add_style("Signature Detail", WD_STYLE_TYPE.PARAGRAPH)
    sign_detail.base_style = normal
    sign_detail.paragraph_format.space_after = Pt(14)
    sign_detail.paragraph_format.keep_with_next = True
    _contextual(sign_detail)
    small = styles.add_style("Running Text", WD_STYLE_TYPE.PARAGRAPH)
    small.base_style = normal
    _font(small, 8, colour=GREY)
    small.paragraph_format.space_after = Pt(0)


def _field(paragraph, instruction: str) -> None:  # type: ignore[no-untyped-def]
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _preserve(run) -> None:  # type: ignore[no-untyped-def]
    run._r.find(qn("w:t")).set(qn("xml:space"), "preserve")


def _footer(footer) -> None:  # type: ignore[no-untyped-def]
    paragraph = footer.paragraphs[0]
    paragraph.style = "Running Text"
    paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(16.6), WD_TAB_ALIGNMENT.RIGHT)
    paragraph.add_run("{{ footer }}")
    _preserve(paragraph.add_run("\tPage "))
    _field(paragraph, "PAGE")
    _preserve(paragraph.add_run(" of "))
    _field(paragraph, "NUMPAGES")


def _header(header) -> None:  # type: ignore[no-untyped-def]
    paragraph = header.paragraphs[0]
    paragraph.style = "Running Text"
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.add_run("{{ running_header }}")


def _repeat_header_row(row) -> None:  # type: ignore[no-untyped-def]
    properties = row._tr.get_or_add_trPr()
    mark = OxmlElement("w:tblHeader")
    mark.set(qn("w:val"), "true")
    properties.append(mark)


def _cell_text(cell, text: str, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    paragraph = cell.paragraphs[0]
    paragraph.style = "Table Text"
    paragraph.add_run(text).bold = bold


def _page(doc) -> None:  # type: ignore[no-untyped-def]
    """A4 with the letter's margins; the running header from page 2, the footer on every page."""
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.left_margin, section.right_margin = Cm(2.2), Cm(2.2)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    section.start_type = WD_SECTION.NEW_PAGE
    section.different_first_page_header_footer = True
    _header(section.header)
    _footer(section.footer)
    _footer(section.first_page_footer)


def _properties(doc) -> None:  # type: ignore[no-untyped-def]
    props = doc.core_properties
    props.title = "{{ title }}"
    props.subject = "{{ subject }}"
    props.author = "{{ sender }}"
    props.language = "{{ lang }}"
    props.comments = "Made by compact-docs from the letter's data; edit freely."


def _tag(doc, text: str, style: str = "Normal") -> None:  # type: ignore[no-untyped-def]
    doc.add_paragraph(text, style=style)


def _facts_table(doc) -> None:  # type: ignore[no-untyped-def]
    """Rows of shaded label and value, one table row per row of the block."""
    facts = doc.add_table(rows=3, cols=2)
    facts.style = doc.styles["Table Grid"]
    facts.alignment = WD_TABLE_ALIGNMENT.LEFT
    _cell_text(facts.cell(0, 0), "{%tr for row in b.rows %}")
    _cell_text(facts.cell(1, 0), "{{ row[0] }}", bold=True)
    _shade(facts.cell(1, 0), LABEL_FILL)
    _cell_text(facts.cell(1, 1), "{{ row[1] }}")
    _cell_text(facts.cell(2, 0), "{%tr endfor %}")
    _borders(facts)
    for row in facts.rows:
        row.cells[0].width, row.cells[1].width = Cm(5.2), Cm(11.4)


def _grid_table(doc) -> None:  # type: ignore[no-untyped-def]
    """A shaded header row repeated on every page, then a row per row of the block."""
    grid = doc.add_table(rows=4, cols=3)
    grid.style = doc.styles["Table Grid"]
    _cell_text(grid.cell(0, 0), "{%tc for h in b.header %}")
    _cell_text(grid.cell(0, 1), "{{ h }}", bold=True)
    grid.cell(0, 1).paragraphs[0].runs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    _shade(grid.cell(0, 1), HEADER_FILL)
    _cell_text(grid.cell(0, 2), "{%tc endfor %}")
    _borders(grid)
    _repeat_header_row(grid.rows[0])
    _cell_text(grid.cell(1, 0), "{%tr for row in b.rows %}")
    _cell_text(grid.cell(2, 0), "{%tc for c in row %}")
    _cell_text(grid.cell(2, 1), "{{ c }}")
    _cell_text(grid.cell(2, 2), "{%tc endfor %}")
    _cell_text(grid.cell(3, 0), "{%tr endfor %}")


def _each(tag, item: str, style: str) -> None:  # type: ignore[no-untyped-def]
    """A paragraph in `style` for each `item` of the block's items: one line of an address, a bullet."""
    tag(f"{{%p for {item} in b.items %}}")
    tag(f"{{{{ {item} }}}}", style)
    tag("{%p endfor %}")


def _lines(tag, which: str, its_style: str, others: str) -> None:  # type: ignore[no-untyped-def]
    """The block's items as lines: the one where `which` holds (loop.first, loop.last) in its own
    style, the others in `others` (a letterhead's last line carries the rule, a signature's first
    line is the name)."""
    tag("{%p for line in b.items %}")
    tag(f"{{%p if {which} %}}")
    tag("{{ line }}", its_style)
    tag("{%p else %}")
    tag("{{ line }}", others)
    tag("{%p endif %}")
    tag("{%p endfor %}")


def _labelled(doc, label: str, text: str, style: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """One paragraph: a bold label, then the text."""
    paragraph = doc.add_paragraph(style=style)
    paragraph.add_run(label).bold = True
    paragraph.add_run(text)


def _letterhead_address_and_references(doc) -> None:  # type: ignore[no-untyped-def]
    tag = partial(_tag, doc)
    tag('{%p if b.type == "letterhead" %}')
    tag("{{ b.text }}", "Letterhead")
    _lines(tag, "loop.last", "Letterhead Rule", "Letterhead Detail")
    tag('{%p elif b.type == "address" %}')
    _each(tag, "line", "Address")
    tag('{%p elif b.type == "references" %}')
    tag("{%p for row in b.rows %}")
    _labelled(doc, "{{ row[0] }}:", '{{ " " }}{{ row[1] }}', style="References")
    tag("{%p endfor %}")


def _headings_paragraphs_and_lists(doc) -> None:  # type: ignore[no-untyped-def]
    tag = partial(_tag, doc)
    tag('{%p elif b.type == "heading" and b.level == 1 %}')
    tag("{{ b.text }}", "Heading 1")
    tag('{%p elif b.type == "heading" and b.level == 2 %}')
    tag("{{ b.text }}", "Heading 2")
    tag('{%p elif b.type == "heading" %}')
    tag("{{ b.text }}", "Heading 3")
    tag('{%p elif b.type == "paragraph" %}')
    _labelled(doc, "{{ b.label }}", '{{ " " if b.label else "" }}{{ b.text }}')
    tag('{%p elif b.type == "list" %}')
    _each(tag, "item", "List Bullet")


def _signature(doc) -> None:  # type: ignore[no-untyped-def]
    tag = partial(_tag, doc)
    tag('{%p elif b.type == "signature" %}')
    tag("{{ b.text }}", "Closing")
    _lines(tag, "loop.first", "Signature Name", "Signature Detail")


def build(target: Path) -> None:
    """Write the bundled letter template to `target`: one loop over the blocks, a branch per type."""
    doc = Document()
    _styles(doc)
    _page(doc)
    _properties(doc)
    _tag(doc, "{%p for b in blocks %}")
    _letterhead_address_and_references(doc)
    _headings_paragraphs_and_lists(doc)
    _tag(doc, '{%p elif b.type == "facts" %}')
    _facts_table(doc)
    _tag(doc, '{%p elif b.type == "table" %}')
    _grid_table(doc)
    _signature(doc)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")
    doc.save(str(target))


if __name__ == "__main__":
    build(HERE / "letter.docx")
    print(HERE / "letter.docx")
