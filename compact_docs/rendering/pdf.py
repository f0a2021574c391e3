"""PDF letters: Jinja2 HTML and CSS, then WeasyPrint (imported only when a PDF is wanted)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, meta
from jinja2 import TemplateError as JinjaError
from markupsafe import Markup

from compact_docs.errors import CompactError, TemplateError
from compact_docs.letters import LetterContext
from compact_docs.rendering.fonts import font_face_css
from compact_docs.rendering.pdf_structure import finish_structure
from compact_docs.rendering.template_folder import TemplateFile, TemplateFolder
from compact_docs.rendering.template_policy import (
    FetchPolicy,
    LetterSandbox,
    default_fetch_policy,
    fetch_policy,
    policy_fetcher,
    refused_fetches_error,
)

UA_VARIANT = "pdf/ua-1"
"""Every PDF is tagged PDF/UA-1: a title, a language, real headings, lists and tables."""

ARCHIVAL_VARIANT = "pdf/a-3b"
"""--archival: PDF/A-3b (still tagged), which may carry the letter's data as an attachment."""


def html_environment(folder: TemplateFolder) -> Environment:
    """The Jinja environment for HTML templates: sandboxed, autoescaped, strict about unknown names.

    `font_faces` is the @font-face CSS of the bundled font family, for a template's <style>: the
    HTML then names its own fonts, and lays out the same wherever it is rendered.
    """
    environment = LetterSandbox(loader=folder.jinja_loader(), autoescape=True, undefined=StrictUndefined)
    environment.globals["font_faces"] = Markup(font_face_css())
    return environment


@dataclass(frozen=True)
class DataAttachment:
    """A file embedded in an archival PDF: the letter's data as JSON."""

    name: str
    content: bytes
    description: str = "The data this letter was made from (JSON)"


class HtmlLetterTemplate:
    """An HTML letter template compiled once, rendered to HTML for any number of letters."""

    def __init__(self, folder: TemplateFolder, template: TemplateFile) -> None:
        self.template = template
        self.environment = html_environment(folder)
        home = folder.bundled if template.origin == "bundled" or folder.user is None else folder.user
        self.fetch_policy = fetch_policy(home, folder.user)
        """What WeasyPrint may read for this template's letters (relative URLs are its folder's)."""
        try:
            self.compiled: Template = self.environment.get_template(template.name)
            source = template.read_bytes().decode("utf-8")
            included = meta.find_referenced_templates(self.environment.parse(source))
        except JinjaError as exc:
            raise TemplateError(_describe(template, exc)) from exc
        except UnicodeDecodeError as exc:
            raise TemplateError(f"template {template.name} ({template.origin}) is not UTF-8 "
                                "text") from exc
        self.files: list[TemplateFile] = [template]
        for name in sorted(n for n in included if n):
            found = folder.find(name)
            if found is not None:
                self.files.append(found)

    def html(self, context: LetterContext) -> str:
        """The letter as an HTML document."""
        try:
            return self.compiled.render(context.as_template_context())
        except JinjaError as exc:
            raise TemplateError(_describe(self.template, exc, context.kind)) from exc
        except CompactError:
            raise
        except Exception as exc:  # a template's own arithmetic (1/0) or a filter's error
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) failed on a "
                                f"{context.kind} letter: {type(exc).__name__}: {exc}") from exc


def _describe(template: TemplateFile, exc: JinjaError, kind: str | None = None) -> str:
    line = getattr(exc, "lineno", None)
    where = f", line {line}" if line else ""
    on = f" on a {kind} letter" if kind else ""
    return f"template {template.name} ({template.origin}{where}) failed{on}: {exc}"


_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


class _Engine:
    """What WeasyPrint can share between letters in one process: fonts and parsed stylesheets.

    Creating a FontConfiguration and parsing the letter's CSS cost about a tenth of a letter's
    PDF time, and splitting its lines as much again; a batch pays them once per worker instead of
    once per letter (line splits are remembered: most wording repeats from letter to letter).
    """

    def __init__(self) -> None:
        from compact_docs.rendering.fonts import load_weasyprint

        load_weasyprint()
        from compact_docs.rendering.line_memo import LetterFonts

        self.font_config = LetterFonts()
        self.lines = self.font_config.lines
        self._stylesheets: dict[tuple[str, FetchPolicy], Any] = {}

    def stylesheet(self, css: str, policy: FetchPolicy) -> Any:
        """A parsed stylesheet for CSS text, parsed only the first time it is seen.

        Its URLs (@font-face, images) are fetched under `policy`; a stylesheet that asks for
        anything else is refused (TemplateError) and never remembered.
        """
        import weasyprint

        sheet = self._stylesheets.get((css, policy))
        if sheet is None:
            if len(self._stylesheets) > 32:
                self._stylesheets.clear()
            fetcher = policy_fetcher(policy)
            sheet = weasyprint.CSS(string=css, font_config=self.font_config, url_fetcher=fetcher,
                                   base_url=policy.base_url)
            if fetcher.refused:
                raise refused_fetches_error(fetcher.refused)
            self._stylesheets[(css, policy)] = sheet
        return sheet


_engines = threading.local()


def pdf_engine() -> _Engine:
    """This thread's shared WeasyPrint engine (created on first use).

    One per thread: Pango's font map and the remembered line layouts are not safe to share
    between threads laying out letters at the same time.
    """
    engine: _Engine | None = getattr(_engines, "engine", None)
    if engine is None:
        engine = _engines.engine = _Engine()
        if threading.current_thread() is threading.main_thread():
            atexit.register(_drop_main_engine)
    return engine


def _drop_main_engine() -> None:
    """Let the main thread's engine go before the interpreter tears its modules down: its font
    configuration removes the temporary copies of @font-face files as it goes, and needs them."""
    _engines.__dict__.pop("engine", None)
    gc.collect()


def warm_up() -> None:
    """Load WeasyPrint, fonts and HarfBuzz now (a batch does this once before starting workers)."""
    write_pdf('<html lang="en"><head><title>warm-up</title></head><body><p>Warm-up £ é</p></body></html>')


def write_pdf(html: str, archival: bool = False,
              attachments: tuple[DataAttachment, ...] = (), policy: FetchPolicy | None = None) -> bytes:
    """The PDF bytes of an HTML letter: tagged PDF/UA-1, or tagged PDF/A-3b when archival.

    The document's <style> elements are handed to WeasyPrint as parsed author stylesheets (the
    same cascade, parsed once per process). WeasyPrint reads only what `policy` allows (by
    default the bundled templates and the package); a letter that asks for anything else is
    refused with a TemplateError.
    """
    engine = pdf_engine()  # first: it imports WeasyPrint quietly
    import weasyprint

    policy = policy or default_fetch_policy()
    sheets = [engine.stylesheet(css, policy) for css in _STYLE.findall(html)]
    body = _STYLE.sub("", html)
    fetcher = policy_fetcher(policy)
    options: dict[str, Any] = {"pdf_variant": UA_VARIANT}
    if archival:
        options = {
            "pdf_variant": ARCHIVAL_VARIANT,
            "pdf_tags": True,
            "attachments": [
                weasyprint.Attachment(file_obj=io.BytesIO(a.content), name=a.name,
                                      description=a.description, relationship="Data")
                for a in attachments
            ],
        }
    try:
        with _unclosed_profile_ignored() if archival else contextlib.nullcontext():
            document = weasyprint.HTML(string=body, base_url=policy.base_url, url_fetcher=fetcher).render(
                font_config=engine.font_config, stylesheets=sheets)
            pdf = bytes(document.write_pdf(finisher=finish_structure(archival), **options))
            del document  # so that an archival PDF's profile can be collected inside the filter
    except Exception as exc:  # WeasyPrint raises many kinds; name it once, here
        raise TemplateError(f"WeasyPrint could not make the PDF: {exc}") from exc
    if fetcher.refused:
        raise refused_fetches_error(fetcher.refused)
    return pdf


@contextlib.contextmanager
def _unclosed_profile_ignored() -> Iterator[None]:
    """WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it: let it go quietly here,
    rather than as a ResourceWarning somewhere later. The warnings filter is the process's, so
    only archival PDFs touch it; the usual path is safe from any thread."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()  # the profile's file is collected (and its warning dropped) in here
