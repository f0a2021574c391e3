"""The template policy: sandboxed Jinja, what WeasyPrint may read, DOCX packages of sane size."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from testdata import DATA, EXAMPLES

import compact_docs
from cli import cli
from compact_docs.errors import TemplateError
from compact_docs.rendering.lint import lint_folder

HOSTILE = DATA / "hostile" / "letters"
CUSTOM = DATA / "letters" / "templates-custom"
NOTICE = EXAMPLES / "notice.yaml"


def _nothing_written(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_template_code_never_runs(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(TemplateError, match="may not use '__init__'"):
        compact_docs.render(NOTICE, formats=(fmt,), out_dir=out, templates=HOSTILE / "templates-code")
    assert _nothing_written(out)


def test_the_sandbox_keeps_the_letter_data_unchanged_and_repetition_bounded(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    for expression in ("letter.support.append('injected')", "'x' * 10000000", "10 ** 10000000"):
        (folder / "notice.html").write_text(
            "<html lang='en'><head><title>t</title></head><body>{{ " + expression + " }}</body></html>",
            encoding="utf-8")
        with pytest.raises(TemplateError):
            compact_docs.render(NOTICE, formats=("pdf",), out_dir=tmp_path / "out", templates=folder)


@pytest.mark.parametrize(("folder", "url"), [("templates-fetch", "file:///etc/passwd"),
                                             ("templates-fetch-css", "file:///etc/hostname")])
def test_weasyprint_reads_no_file_outside_the_template_folder(folder: str, url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(TemplateError, match=url):
        compact_docs.render(NOTICE, formats=("pdf",), out_dir=out, templates=HOSTILE / folder)
    assert _nothing_written(out)


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A web server on loopback that records every path asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_weasyprint_fetches_nothing_from_the_network(web_server: tuple[str, list[str]], tmp_path: Path) -> None:
    base, asked = web_server
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "notice.html").write_text(
        f'<html lang="en"><head><title>t</title><link rel="stylesheet" href="{base}/style.css">'
        f'<style>@import url("{base}/import.css");</style></head>'
        f'<body><img src="{base}/logo.png" alt="logo"><p>{{{{ title }}}}</p></body></html>', encoding="utf-8")
    with pytest.raises(TemplateError, match="no network"):
        compact_docs.render(NOTICE, formats=("pdf",), out_dir=tmp_path / "out", templates=folder)
    assert asked == []
    problems = [str(p) for p in lint_folder(folder)]
    assert sum(f"fetches '{base}/" in p for p in problems) == 3


def test_files_in_the_template_folder_may_be_used_but_not_a_step_outside(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    shutil.copy(DATA.parent.parent / "compact_docs" / "fonts" / "OFL.txt", folder / "terms.txt")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    page = ('<html lang="en"><head><title>t</title></head><body><p>{{ title }}</p>'
            '<a rel="attachment" href="HREF">terms</a></body></html>')
    (folder / "notice.html").write_text(page.replace("HREF", "terms.txt"), encoding="utf-8")
    result = compact_docs.render(NOTICE, formats=("pdf",), out_dir=tmp_path / "ok", templates=folder)
    annotations = [a.get_object() for a in PdfReader(str(result.files[0])).pages[0]["/Annots"]]
    assert [a["/FS"]["/F"] for a in annotations if a["/Subtype"] == "/FileAttachment"] == ["terms.txt"]
    assert lint_folder(folder) == []
    (folder / "notice.html").write_text(page.replace("HREF", "../secret.txt"), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"secret\.txt"):
        compact_docs.render(NOTICE, formats=("pdf",), out_dir=tmp_path / "out", templates=folder)
    assert any("'../secret.txt'" in str(p) for p in lint_folder(folder))


def test_a_template_that_links_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(CUSTOM, folder)
    (tmp_path / "secret.css").write_text("/* secret */", encoding="utf-8")
    (folder / "letter.css").symlink_to(tmp_path / "secret.css")
    with pytest.raises(TemplateError, match="outside its folder"):
        compact_docs.render(NOTICE, formats=("pdf",), out_dir=tmp_path / "out", templates=folder)
    assert any("outside its folder" in str(p) for p in lint_folder(folder))


def test_lint_reports_what_the_sandbox_and_the_fetcher_refuse(runner: CliRunner) -> None:
    problems = [str(p) for p in lint_folder(HOSTILE / "templates-code")]
    assert any(p.startswith("notice.html: line 5: uses '__init__'") and "sandbox" in p for p in problems)
    assert any(p.startswith("notice.docx: paragraph 1 ") and "'__globals__'" in p for p in problems)
    fetch = [str(p) for p in lint_folder(HOSTILE / "templates-fetch")]
    assert fetch == ["notice.html: line 7: fetches 'file:///etc/passwd', which templates may not: only files "
                     "in the template folder and the compact_docs package, and data: URLs (no other "
                     "file://, no network)"]
    result = runner.invoke(cli, ["templates", "lint", str(HOSTILE / "templates-fetch-css")])
    assert result.exit_code == 1 and "file:///etc/hostname" in result.output


@pytest.mark.parametrize("folder", ["templates-bomb", "templates-bomb-lying"])
def test_a_zip_bomb_template_is_refused_quickly(folder: str, tmp_path: Path, runner: CliRunner) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        compact_docs.render(NOTICE, formats=("docx",), out_dir=tmp_path / "out", templates=HOSTILE / folder)
    assert time.monotonic() - start < 10
    assert "notice.docx" in str(caught.value)
    [problem] = lint_folder(HOSTILE / folder)
    assert problem.file == "notice.docx"
    result = runner.invoke(cli, ["notice", str(NOTICE), "-o", str(tmp_path / "cli"), "--format", "docx",
                                 "--templates", str(HOSTILE / folder)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: template notice.docx")
    if folder == "templates-bomb":
        assert "zip bomb" in result.output


def test_an_oversized_template_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    with (folder / "notice.docx").open("wb") as handle:
        handle.truncate(16 * 1024 * 1024 + 1)  # the template policy's MAX_TEMPLATE_BYTES, and one
    with pytest.raises(TemplateError, match="larger than 16 MB"):
        compact_docs.render(NOTICE, formats=("docx",), out_dir=tmp_path / "out", templates=folder)


def test_docxtpl_escapes_in_data_print_literally(tmp_path: Path) -> None:
    result = compact_docs.render(HOSTILE / "docxtpl-escapes-notice.yaml", out_dir=tmp_path)
    document = docx.Document(str(result.files[0]))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "The grant {_{ x }_} will end {_% if %_} now." in text
    assert "Bexley {_{ x }_} Age Well" in text
    assert document.sections[0].header.paragraphs[0].text.startswith("Bexley {_{ x }_} Age Well")
    assert "{{" not in text and "{%" not in text
    pdf = "\n".join(page.extract_text() for page in PdfReader(str(result.files[1])).pages)
    assert "The grant {_{ x }_} will end {_% if %_} now." in pdf.replace("\n", " ")
