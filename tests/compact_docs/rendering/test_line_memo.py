"""Line splits remembered across letters: the same PDF bytes as plain WeasyPrint, only faster."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import weasyprint
from weasyprint.text import line_break
from weasyprint.text.fonts import FontConfiguration

from compact_docs import line_memo
from compact_docs.rendering.pdf import pdf_engine, write_pdf
from compact_docs.rendering.pdf_structure import finish_structure
from compact_docs.rendering.renderer import Renderer
from compact_docs.rendering.template_policy import FetchPolicy, default_fetch_policy


def plain_pdf(html: str) -> bytes:
    """The design's naive path: a fresh WeasyPrint document for the letter's HTML (with the same
    structure finisher, which gives header cells their /Scope)."""
    return bytes(weasyprint.HTML(string=html, base_url=".").write_pdf(
        pdf_variant="pdf/ua-1", finisher=finish_structure(archival=False)))


@pytest.fixture(scope="module")
def notice_html() -> Callable[[str, str], str]:
    """HTML of the bundled notice letter for a given organisation and reference."""
    from compact_docs.examples import example_files
    from compact_docs.loading import parse_text

    source = next(f for f in example_files() if f.stem == "notice")
    renderer = Renderer()

    def make(name: str, reference: str) -> str:
        data: dict[str, Any] = parse_text(source.read_text(encoding="utf-8"), source.name)
        data["organisation"]["name"] = name
        data["funding"]["reference"] = reference
        return renderer.html(renderer.prepare(data).context)

    return make


def test_remembered_lines_give_the_same_pdf_bytes_as_plain_weasyprint(
        notice_html: Callable[[str, str], str]) -> None:
    memo = pdf_engine().lines
    assert memo is not None, "this WeasyPrint's line splitting should be memoised"
    first = notice_html("Crayford Men's Shed", "LBB-GR-2024-0001")
    second = notice_html("Thamesmead Youth Theatre Company", "LBB-GR-2024-0002")
    write_pdf(first)
    hits = memo.hits
    ours = write_pdf(second)
    assert memo.hits - hits > 50, "most of the second letter's lines repeat the first's"
    assert ours == plain_pdf(second)


def test_other_font_configurations_are_left_alone(notice_html: Callable[[str, str], str]) -> None:
    memo = pdf_engine().lines
    assert memo is not None
    before = (memo.hits, memo.misses, len(memo.lines))
    html = notice_html("Belvedere Allotment Society", "LBB-GR-2024-0003")
    weasyprint.HTML(string=html).render(font_config=FontConfiguration())
    assert (memo.hits, memo.misses, len(memo.lines)) == before


@pytest.mark.parametrize("clamp", ["line-clamp: 2", "white-space: nowrap; overflow: hidden; "
                                              "text-overflow: ellipsis; width: 30mm"])
def test_lines_cut_short_with_an_ellipsis_are_drawn_as_plain_weasyprint_does(clamp: str) -> None:
    words = " ".join(["A sentence far too long to fit on two lines of a narrow column."] * 3)
    html = (f'<html lang="en"><head><title>t</title></head><body style="width: 40mm">'
            f'<p>{words}</p><p style="{clamp}">{words}</p><p>{words}</p></body></html>')
    assert write_pdf(html) == plain_pdf(html)
    assert write_pdf(html) == plain_pdf(html)


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch,
                             notice_html: Callable[[str, str], str]) -> None:
    memo = pdf_engine().lines
    assert memo is not None
    monkeypatch.setattr(line_memo, "MAX_LINES", 40)
    memo.forget()
    html = notice_html("Erith Credit Union", "LBB-GR-2024-0004")
    assert write_pdf(html) == plain_pdf(html)
    assert 0 < len(memo.lines) <= 40

    monkeypatch.setattr(line_memo, "MAX_LINES", 10_000)
    monkeypatch.setattr(line_memo, "MAX_TEXT_CHARS", 3_000)
    memo.forget()
    assert write_pdf(html) == plain_pdf(html)
    assert 0 < memo.text_chars <= 3_000
    assert memo.text_chars == sum(len(key[0]) for key in memo.lines)


def test_a_weasyprint_of_another_shape_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    def split_first_line(text: str, style: Any, context: Any, max_width: float) -> None:
        raise AssertionError("never called")

    monkeypatch.setattr(line_memo, "_installed", False)
    monkeypatch.setattr(line_break, "split_first_line", split_first_line)
    assert line_memo.LetterFonts().lines is None


def test_a_style_value_that_cannot_be_a_key_is_split_afresh(
        monkeypatch: pytest.MonkeyPatch, notice_html: Callable[[str, str], str]) -> None:
    memo = pdf_engine().lines
    assert memo is not None
    # An unset custom property computes to an empty list, which cannot be part of a key.
    monkeypatch.setattr(line_memo, "_STYLE_KEYS", (*line_memo._STYLE_KEYS, "__unset_custom_property"))
    before = (memo.hits, memo.misses)
    html = notice_html("Welling Food Bank", "LBB-GR-2024-0005")
    assert write_pdf(html) == plain_pdf(html)
    assert (memo.hits, memo.misses) == before


def test_an_unchecked_weasyprint_version_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_memo, "_installed", False)
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    assert line_memo.LetterFonts().lines is None


def test_the_doctor_says_whether_lines_are_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    from compact_docs.doctor import check_pdf_engine

    found = {check.name: check for check in check_pdf_engine()}
    assert found["line breaking"].status == "ok"

    monkeypatch.setattr(line_memo, "_installed", False)
    monkeypatch.setattr(line_break, "split_first_line", lambda text, style: None)
    found = {check.name: check for check in check_pdf_engine()}
    assert found["line breaking"].status == "warning"
    assert "afresh" in found["line breaking"].detail and "not the shape" in found["line breaking"].detail

    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    detail = {check.name: check for check in check_pdf_engine()}["line breaking"].detail
    assert "checked with WeasyPrint 70, not 71.0" in detail


def test_each_thread_lays_out_with_its_own_fonts_and_memo(notice_html: Callable[[str, str], str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    htmls = [notice_html(f"Sidcup Scouts Group {n}", f"LBB-GR-2024-01{n:02d}") for n in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        engines = set(pool.map(lambda _: id(pdf_engine()), range(3)))
        made = list(pool.map(write_pdf, htmls))
    assert id(pdf_engine()) not in engines
    assert made == [plain_pdf(html) for html in htmls]


def _in_a_fresh_thread(work: Callable[[], Any]) -> Any:
    """Run `work` in a new thread, so with a new PDF engine (one per thread) and an empty memo."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def test_a_block_ellipsis_from_the_paragraph_does_not_leak_into_later_lines() -> None:
    # The ellipsis comes from the clamped paragraph; the text's own style says none.
    words = " ".join(["A sentence far too long to fit on two lines of a narrow column."] * 3)
    page = '<html lang="en"><head><title>t</title></head><body style="width: 40mm">{}</body></html>'
    clamped = page.format(f'<p style="line-clamp: 2"><span style="block-ellipsis: none">{words}</span></p>')
    unclamped = page.format(f"<p><span>{words}</span></p>")

    def lay_out() -> list[bytes]:
        return [write_pdf(clamped), write_pdf(unclamped), write_pdf(clamped)]

    assert _in_a_fresh_thread(lay_out) == [plain_pdf(clamped), plain_pdf(unclamped), plain_pdf(clamped)]


def test_right_to_left_lines_keep_their_direction_in_later_letters() -> None:
    html = ('<html lang="he" dir="rtl"><head><title>t</title></head><body style="width: 40mm"><p>'
            + "<b>\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd</b> " * 3
            + "<i>\u05e9\u05dc\u05d5\u05dd</i></p></body></html>")
    assert _in_a_fresh_thread(lambda: [write_pdf(html) for _ in range(3)]) == [plain_pdf(html)] * 3


def test_a_font_face_added_later_is_used_for_the_lines_after_it() -> None:
    mono = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans Mono"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert mono.endswith(".ttf"), mono
    words = " ".join(["Your application for a community grant has been received and will be assessed."] * 2)
    body = f'<body style="width: 60mm; font-family: Brand, sans-serif"><p>{words}</p></body></html>'
    without = '<html lang="en"><head><title>t</title></head>' + body
    with_face = (f'<html lang="en"><head><title>t</title><style>@font-face {{ font-family: Brand; '
                 f'src: url(file://{mono}) }}</style></head>' + body)

    # The letters' template policy lets WeasyPrint read only the package: allow the font's folder too.
    default = default_fetch_policy()
    policy = FetchPolicy(default.base_url, (*default.roots, os.path.dirname(os.path.realpath(mono))))
    made = _in_a_fresh_thread(lambda: [write_pdf(without), write_pdf(with_face, policy=policy)])
    assert made == [plain_pdf(without), plain_pdf(with_face)]


def test_a_calculated_hyphenation_zone_is_split_afresh() -> None:
    words = "The municipality acknowledges extraordinarily comprehensive documentation accompanying applications"
    pages = [(f'<html lang="en"><head><title>t</title><style>p {{ width: {width}mm; font-size: 12px; '
              "hyphens: auto; hyphenate-limit-zone: calc(0% + 2lh) } .a { line-height: 0.3 } "
              ".b { line-height: 5 }</style></head>"
              f'<body><p class="a">{words}</p><p class="b">{words}</p></body></html>')
             for width in range(30, 50, 4)]
    assert _in_a_fresh_thread(lambda: [write_pdf(page) for page in pages]) == [plain_pdf(p) for p in pages]


def test_asking_whether_lines_can_be_remembered_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint.layout.inline as inline
    import weasyprint.layout.preferred as preferred

    original = line_break.split_first_line
    monkeypatch.setattr(line_memo, "_installed", False)
    monkeypatch.setattr(inline, "split_first_line", original)
    monkeypatch.setattr(preferred, "split_first_line", original)
    assert line_memo.unsupported() is None
    assert inline.split_first_line is original and preferred.split_first_line is original
