"""The report as one self-contained HTML page (inline SVG, fonts embedded, no scripts) and as tagged PDF."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from compact_docs.output import prepare_folder, target_path, write_atomic
from compact_docs.render_fonts import CSS_FAMILY, FACES, font_face_css, font_folder
from compact_docs.report._charts import chart_svg, describe_chart
from compact_docs.report.figures import Cell, Figure, Report

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
JSON_NAME = "report.json"

_SECTIONS = (("disputes", "Disputes"), ("notices", "Notices of funding changes"))
_TOTAL_ROWS = ("Total", "All stages", "All outcomes", "All", "All messages")
_PAGE_FACES = ("normal", "bold")  # the page sets no italic text: two faces are enough


@dataclass(frozen=True)
class ReportFiles:
    """The files a report was written to."""

    html: Path
    pdf: Path
    json: Path


def _cell(value: Cell) -> tuple[str, bool]:
    """A table cell as text, and whether it is a number (right-aligned)."""
    if value is None:
        return "none", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return (str(int(value)) if value == int(value) else f"{value:.1f}"), True
    return str(value), False


def _figure_context(figure: Figure) -> dict[str, Any]:
    svg = None
    if figure.chart is not None:
        svg = Markup(chart_svg(figure.chart, f"chart-{figure.id}", f"{figure.title}. {figure.finding}",
                               describe_chart(figure.chart)))
    rows = []
    for row in figure.table.rows:
        name, *cells = row
        rows.append({"name": _cell(name)[0], "cells": [_cell(c) for c in cells],
                     "total": name in _TOTAL_ROWS})
    return {"id": figure.id, "title": figure.title, "finding": figure.finding, "svg": svg,
            "columns": figure.table.columns, "rows": rows, "notes": figure.notes}


def _summary(report: Report) -> list[str]:
    t = report.totals
    day = f"{report.as_of.day} {report.as_of:%B %Y}"
    lines = [
        f"{t.get('cases_opened', 0)} dispute cases opened, {t.get('closed', 0)} closed and "
        f"{t.get('escalations', 0)} escalations.",
        f"{t.get('open_now', 0)} cases open on {day}, {t.get('overdue', 0)} of them past their stage's deadline.",
        f"{t.get('messages', 0)} messages came into the dispute mailbox; {t.get('needs_triage', 0)} needed "
        f"a person to decide where they belonged.",
    ]
    if report.sources[1:]:
        lines.append(f"{t.get('notices', 0)} notices of funding changes; {t.get('notices_short', 0)} gave less "
                     f"than the Compact's minimum notice, {t.get('notices_exceptional', 0)} citing "
                     "exceptional circumstances.")
    else:
        lines.append("No letter folders were given, so the report has no figures on notices.")
    return lines


def _method(report: Report) -> list[str]:
    deadlines = "; ".join(f"stage {s}: {d} working days" for s, d in sorted(report.deadlines.items()))
    folders = len(report.sources) - 1
    return [
        f"The report covers {report.period.describe()}. A case counts in the month its first message came.",
        "Working days leave out weekends and bank holidays of the Compact's jurisdiction.",
        f"Deadlines are BVSC's own service standard for each stage ({deadlines}); a stage without one is "
        "never overdue.",
        f"Open cases are those open on {report.as_of.day} {report.as_of:%B %Y}, aged from the day they "
        "reached their current stage.",
        "Time at a stage runs from reaching it to leaving it (escalated, moved by a caseworker, or closed), "
        "for stays that ended in the period; the 90th percentile is by nearest rank.",
        f"Notices come from the records of {folders} letter folder{'s' if folders != 1 else ''}; a notice "
        "counts in the month notice counts as given, and a letter written again from the same data counts once.",
    ]


@lru_cache(maxsize=1)
def _template() -> Template:
    text = resources.files("compact_docs.report").joinpath("report.html").read_text(encoding="utf-8")
    environment = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    environment.filters["lower_first"] = lambda words: words[:1].lower() + words[1:]
    return environment.from_string(text)


def _context(report: Report) -> dict[str, Any]:
    """What the page shows, charts drawn (once: the HTML and the PDF share them)."""
    from compact_docs import __version__

    sections = [{"id": key, "title": name, "figures": [_figure_context(f) for f in report.section(key)]}
                for key, name in _SECTIONS]
    return {"title": f"{report.compact}: disputes and notices", "period": report.period.describe(),
            "anonymised": report.anonymised, "prepared": f"{report.as_of.day} {report.as_of:%B %Y}",
            "summary": _summary(report), "sections": sections, "method": _method(report),
            "family": CSS_FAMILY, "version": __version__}


def _render(context: dict[str, Any], font_css: str | None) -> str:
    template = _template()
    if font_css is None:
        draft = template.render(font_css="", **context)
        font_css = embedded_font_css(draft)
    return template.render(font_css=Markup(font_css), **context)


def report_html(report: Report, *, font_css: str | None = None) -> str:
    """The report as one HTML page. `font_css` is the @font-face CSS; by default the bundled faces
    are embedded, cut down to the characters the page uses, so the page needs no other file."""
    return _render(_context(report), font_css)


def embedded_font_css(text: str) -> str:
    """@font-face rules carrying the bundled regular and bold faces as data: URLs, subset to the
    characters in `text` (a page of figures uses about a hundred)."""
    from fontTools import subset

    characters = "".join(sorted(set(text) | set("0123456789 .,;:%()-–")))
    rules = []
    for face in FACES:
        if face.style != "normal" or face.weight not in _PAGE_FACES:
            continue
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.drop_tables = [*options.drop_tables, "FFTM"]  # FontForge's timestamps: not needed
        font = subset.load_font(str(font_folder() / face.file), options)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=characters)
            subsetter.subset(font)
            buffer = io.BytesIO()
            subset.save_font(font, buffer, options)
        finally:
            font.close()
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{CSS_FAMILY}"; font-weight: {face.weight}; '
                     f'font-style: normal; src: url("data:font/ttf;base64,{data}") format("truetype"); }}')
    return "\n".join(rules)


def report_pdf(report: Report) -> bytes:
    """The same page as a tagged PDF/UA-1, laid out by WeasyPrint in the bundled font files."""
    return _pdf(_context(report))


def _pdf(context: dict[str, Any]) -> bytes:
    from compact_docs.render_pdf import write_pdf

    return write_pdf(_render(context, font_face_css()))


def write_report(report: Report, out_dir: str | Path) -> ReportFiles:
    """Write report.html, report.pdf and report.json into `out_dir` (made if need be)."""
    folder = prepare_folder(out_dir)
    html_path, pdf_path, json_path = (target_path(folder, n) for n in (HTML_NAME, PDF_NAME, JSON_NAME))
    context = _context(report)
    write_atomic(html_path, _render(context, None).encode("utf-8"))
    write_atomic(pdf_path, _pdf(context))
    data = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    write_atomic(json_path, data.encode("utf-8"))
    return ReportFiles(html_path, pdf_path, json_path)
