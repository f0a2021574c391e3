"""Charts as inline SVG, drawn by matplotlib's SVG backend in the bundled font, text kept as text.

Colours are the Okabe-Ito palette (told apart by colour-blind readers), and every series also has
its own hatching, so the charts still read when printed in greyscale.
"""

from __future__ import annotations

import io
import re
import threading
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from compact_docs.render_fonts import CSS_FAMILY, FACES, FAMILY, font_folder
from compact_docs.report.figures import Chart

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442", "#000000")
"""Okabe and Ito's colour-blind-safe palette, ordered so neighbours differ in lightness too."""

HATCHES = ("", "///", "\\\\\\", "xxx", "---", "|||", "+++", "//")
"""One hatching per series, so no series is told apart by colour alone."""

INK = "#1a1a1a"
WIDTH_INCHES = 6.4

_lock = threading.Lock()  # matplotlib's font manager and rcParams are process-wide


@lru_cache(maxsize=1)
def _matplotlib() -> Any:
    """matplotlib with the bundled font family registered (imported on first chart only)."""
    import matplotlib
    from matplotlib import font_manager

    for face in FACES:
        font_manager.fontManager.addfont(str(font_folder() / face.file))
    return matplotlib


def _style() -> dict[str, Any]:
    return {
        "font.family": [FAMILY], "font.size": 9.5, "svg.fonttype": "none",
        "svg.hashsalt": "compact-docs", "hatch.linewidth": 0.7, "hatch.color": INK,
        "axes.edgecolor": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
        "text.color": INK, "axes.spines.top": False, "axes.spines.right": False,
        "axes.axisbelow": True, "legend.frameon": False,
    }


def chart_svg(chart: Chart, element_id: str, title: str, description: str) -> str:
    """The chart as an <svg> element for an HTML page: its `title` is the text alternative that a
    screen reader and the tagged PDF's Figure use, its `desc` says what kind of chart it is."""
    matplotlib = _matplotlib()
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with _lock, matplotlib.rc_context(_style()):
        many = len(chart.categories)
        height = 3.0 if chart.kind != "barh" else max(1.6, 0.9 + 0.34 * many * max(1, len(chart.series) // 3))
        figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        if chart.kind == "barh":
            _draw_barh(axes, chart)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(axis="x", color="#c8c8c8", linewidth=0.6)
            axes.set_xlabel(chart.value_label)
        else:
            _draw_columns(axes, chart)
            axes.yaxis.set_major_locator(MaxNLocator(integer=chart.kind == "bar"))
            axes.grid(axis="y", color="#c8c8c8", linewidth=0.6)
            axes.set_ylabel(chart.value_label)
        if len(chart.series) > 1:
            figure.legend(loc="outside upper left", ncols=min(len(chart.series), 4), handlelength=1.8,
                          handleheight=1.2)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _for_html(out.getvalue(), element_id, title, description)


def _bar_style(index: int) -> dict[str, Any]:
    return {"color": OKABE_ITO[index % len(OKABE_ITO)], "hatch": HATCHES[index % len(HATCHES)],
            "edgecolor": INK, "linewidth": 0.6}


def _draw_columns(axes: Any, chart: Chart) -> None:
    positions = list(range(len(chart.categories)))
    if chart.kind == "grouped":
        width = 0.8 / len(chart.series)
        for i, series in enumerate(chart.series):
            shift = [p - 0.4 + width * (i + 0.5) for p in positions]
            bars = axes.bar(shift, series.values, width, label=series.name, **_bar_style(i))
            axes.bar_label(bars, labels=[_short(v) for v in series.values], padding=2, fontsize=8.5)
    else:
        bottoms = [0.0] * len(positions)
        for i, series in enumerate(chart.series):
            axes.bar(positions, series.values, 0.7, bottom=bottoms, label=series.name, **_bar_style(i))
            bottoms = [b + v for b, v in zip(bottoms, series.values, strict=True)]
        for position, total in zip(positions, bottoms, strict=True):
            if total:
                axes.annotate(_short(total), (position, total), xytext=(0, 2), textcoords="offset points",
                              ha="center", va="bottom", fontsize=8.5)
    labels = list(chart.categories)
    if len(labels) > 6:
        labels = [label.replace(" ", "\n", 1) for label in labels]
    axes.set_xticks(positions, labels)
    axes.margins(y=0.12)


def _draw_barh(axes: Any, chart: Chart) -> None:
    positions = list(range(len(chart.categories)))
    lefts = [0.0] * len(positions)
    for i, series in enumerate(chart.series):
        axes.barh(positions, series.values, 0.66, left=lefts, label=series.name, **_bar_style(i))
        lefts = [a + v for a, v in zip(lefts, series.values, strict=True)]
    for position, total in zip(positions, lefts, strict=True):
        axes.annotate(_short(total), (total, position), xytext=(3, 0), textcoords="offset points",
                      ha="left", va="center", fontsize=8.5)
    axes.set_yticks(positions, [_wrap(c) for c in chart.categories])
    axes.invert_yaxis()  # the first category (the largest) at the top
    axes.margins(x=0.08)


def _short(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def _wrap(label: str, width: int = 28) -> str:
    if len(label) <= width:
        return label
    cut = label.rfind(" ", 0, width)
    return label if cut < 0 else label[:cut] + "\n" + _wrap(label[cut + 1:], width)


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_STYLE = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>\s*", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')


def _presentation_attributes(match: re.Match[str]) -> str:
    """style="fill: #fff; stroke: #000" as fill="#fff" stroke="#000": SVG's own attributes, which an
    HTML page's CSS engine (WeasyPrint's) does not mistake for unknown CSS properties."""
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def _for_html(svg: str, element_id: str, title: str, description: str) -> str:
    """matplotlib's SVG file made an element of a page: no XML prologue or metadata, every id
    prefixed (several charts share one page), the bundled font named, a title and a description."""
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    svg = _STYLE.sub("", svg, count=1)  # its rule would reach the whole page; the page sets it for svg
    svg = _ID.sub(lambda m: f'id="{element_id}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{element_id}-{m.group(2)}", svg)
    svg = svg.replace(f"'{FAMILY}'", f"'{CSS_FAMILY}', '{FAMILY}', sans-serif")
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)

    def opening(match: re.Match[str]) -> str:
        attributes = match.group(1)
        return (f'<svg{attributes} id="{element_id}" role="img" aria-labelledby="{element_id}-title" '
                f'aria-describedby="{element_id}-desc">'
                f'<title id="{element_id}-title">{escape(title)}</title>'
                f'<desc id="{element_id}-desc">{escape(description)}</desc>')

    return _SVG_OPEN.sub(opening, svg, count=1).strip() + "\n"


def describe_chart(chart: Chart) -> str:
    """What a chart is, in words: 'A stacked bar chart of open cases by stage (4 parts: ...).'"""
    shape = {"bar": "bar chart", "barh": "horizontal bar chart", "grouped": "grouped bar chart"}[chart.kind]
    if chart.kind != "grouped" and len(chart.series) > 1:
        shape = "stacked " + shape
    what = chart.value_label.lower()
    by = f" by {chart.category_label.lower()}" if chart.category_label else ""
    parts = ""
    if len(chart.series) > 1:
        parts = f", in {len(chart.series)} parts: {', '.join(s.name for s in chart.series)}"
    return f"A {shape} of {what}{by}{parts}. The table after it gives the numbers."
