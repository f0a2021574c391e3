"""Linting letter templates: Jinja syntax errors with file and line (DOCX: paragraph), unknown names,
and what the template policy refuses (sandboxed names, files and URLs WeasyPrint may not read)."""

from __future__ import annotations

import itertools
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes
from pydantic import BaseModel

from compact_docs.errors import TemplateError as CompactTemplateError
from compact_docs.letters.blocks import CONTEXT_NAMES
from compact_docs.models import KINDS, model_for
from compact_docs.template_folder import TemplateFile, TemplateFolder
from compact_docs.template_policy import (
    MUTATING_METHODS,
    FetchPolicy,
    LetterSandbox,
    fetch_policy,
    refused_attribute,
    url_allowed,
)

_PARAGRAPH = re.compile(r"<w:p([ >/])")
_TAGS = re.compile(r"<[^>]+>")
_MARKS = re.compile(r"<!--p(\d+)-->")


@dataclass(frozen=True)
class LintProblem:
    """One problem in a template: the file, where in it, and what is wrong."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


def kinds_for(name: str) -> tuple[str, ...]:
    """The letter kinds a template file serves: 'notice.html' -> notice; 'letter.html' -> all."""
    stem = name.rsplit(".", 1)[0]
    stem = re.sub(r"-stage-\d+$", "", stem)
    return (stem,) if stem in KINDS else KINDS


def _model_fields(model: type[BaseModel]) -> dict[str, object]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def _submodel(annotation: object) -> type[BaseModel] | None:
    """The model inside an annotation such as `Eia | None`, if there is exactly one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [m for m in (_submodel(a) for a in typing.get_args(annotation)) if m]
        return found[0] if len(found) == 1 else None
    return None


def _provides(kind: str, chain: list[str]) -> bool:
    """Whether a kind's model has the attribute chain `letter.a.b...` (lists end the check)."""
    model: type[BaseModel] | None = model_for(kind)
    for attr in chain:
        if model is None:
            return True
        fields = _model_fields(model)
        if attr not in fields:
            return False
        model = _submodel(fields[attr])
    return True


def _letter_chains(ast: nodes.Template) -> list[tuple[list[str], int]]:
    """Every outermost `letter.a.b` chain in a template, with its line."""
    inner: set[int] = set()
    chains = []
    for node in ast.find_all(nodes.Getattr):
        if id(node) in inner:
            continue
        attrs = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr):
            inner.add(id(current))
            attrs.append(current.attr)
            current = current.node
        if isinstance(current, nodes.Name) and current.name == "letter":
            chains.append((list(reversed(attrs)), node.lineno))
    return chains


def _name_lines(ast: nodes.Template, name: str) -> int:
    for node in ast.find_all(nodes.Name):
        if node.name == name and node.ctx == "load":
            return node.lineno
    return 0


class _Source:
    """One template part to lint: its text and how to say where a line is."""

    def __init__(self, text: str, label: str, paragraphs: bool) -> None:
        self.text = text
        self.label = label
        self.paragraphs = paragraphs

    def where(self, line: int) -> str:
        if not self.paragraphs:
            return f"line {line}"
        lines = self.text.splitlines()[:max(line, 1)]
        number, words = 0, ""
        for text in reversed(lines):
            found = _MARKS.findall(text)
            if found:
                number, words = int(found[-1]), _TAGS.sub("", text).strip()
                break
        words = words.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        shown = f" ({words[:60]!r})" if words else ""
        return f"{self.label}paragraph {number}{shown}"


def _mark_paragraphs(xml: str) -> str:
    """Each paragraph on its own line, after a `<!--pN-->` marker with its number."""
    numbers = itertools.count(1)
    return _PARAGRAPH.sub(lambda m: f"\n<!--p{next(numbers)}--><w:p{m.group(1)}", xml)


def _docx_sources(template: TemplateFile) -> list[_Source]:
    import io
    import zipfile

    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate
    from lxml.etree import LxmlError

    from compact_docs.template_policy import safe_docx_package

    try:
        package = safe_docx_package(template.read_bytes(), f"{template.name} ({template.origin})")
        document = DocxTemplate(io.BytesIO(package))
        docx = document.get_docx()
    except CompactTemplateError as exc:
        return [_Source("", str(exc), paragraphs=False)]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError):
        return [_Source("", "not a DOCX file", paragraphs=False)]
    parts = [("", document.get_xml())]
    for uri, label in ((document.HEADER_URI, "header"), (document.FOOTER_URI, "footer")):
        for index, rel in enumerate((r for r in docx.part.rels.values()
                                     if r.reltype == uri and r.target_part.blob), 1):
            xml = document.xml_to_string(parse_xml(rel.target_part.blob))
            parts.append((f"{label} {index}, ", xml))
    sources = []
    for label, xml in parts:
        # Mark every paragraph with its number before docxtpl's clean-up (which removes rows and
        # tag paragraphs), so an error's line can be traced back to the paragraph it came from.
        patched = document.patch_xml(_mark_paragraphs(xml))
        sources.append(_Source(patched, label, paragraphs=True))
    return sources


def lint_template(template: TemplateFile, folder: TemplateFolder) -> list[LintProblem]:
    """The problems of one template file."""
    environment = LetterSandbox(autoescape=True, loader=folder.jinja_loader())
    if template.name.endswith(".docx"):
        sources = _docx_sources(template)
    else:
        try:
            text = template.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return [LintProblem(template.name, "line 1", "not UTF-8 text")]
        except CompactTemplateError as exc:
            return [LintProblem(template.name, "file", str(exc))]
        sources = [_Source(text, "", paragraphs=False)]
    problems: list[LintProblem] = []
    kinds = kinds_for(template.name)
    known = set(CONTEXT_NAMES) | set(environment.globals)
    if not template.name.endswith(".docx"):
        from compact_docs.render_pdf import html_environment

        known |= set(html_environment(folder).globals)  # font_faces
    for source in sources:
        if not source.text and not source.paragraphs:
            problems.append(LintProblem(template.name, "file", source.label))
            continue
        try:
            ast = environment.parse(source.text)
        except TemplateSyntaxError as exc:
            problems.append(LintProblem(template.name, source.where(exc.lineno or 1),
                                        f"Jinja syntax error: {exc.message}"))
            continue
        try:
            undeclared = meta.find_undeclared_variables(ast)
        except TemplateError as exc:  # an unknown filter or test is found only when compiling
            line = getattr(exc, "lineno", None) or 1
            problems.append(LintProblem(template.name, source.where(line), f"Jinja error: {exc.message}"))
            continue
        for name in sorted(undeclared - known):
            problems.append(LintProblem(
                template.name, source.where(_name_lines(ast, name)),
                f"uses '{name}', which no letter context provides (names: "
                f"{', '.join(CONTEXT_NAMES)})"))
        for chain, line in _letter_chains(ast):
            if not any(_provides(kind, chain) for kind in kinds):
                dotted = ".".join(["letter", *chain])
                problems.append(LintProblem(
                    template.name, source.where(line),
                    f"uses '{dotted}', which the {' or '.join(kinds)} letter data does not have"))
        for name in sorted(n for n in meta.find_referenced_templates(ast) if n):
            try:
                found = folder.find(name)
            except CompactTemplateError as exc:
                problems.append(LintProblem(template.name, "file", str(exc)))
                continue
            if found is None:
                problems.append(LintProblem(template.name, "file",
                                            f"includes '{name}', which is not a template"))
        problems += _sandbox_problems(template.name, source, ast)
        if not template.name.endswith(".docx"):
            problems += _fetch_problems(template, folder, source)
    return problems


def _sandbox_problems(name: str, source: _Source, ast: nodes.Template) -> list[LintProblem]:
    """What Jinja's sandbox would refuse: internal names and changes to the letter's data."""
    problems = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            attr: object = node.attr
        elif isinstance(node, nodes.Getitem):
            attr = getattr(node.arg, "value", None)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:  # x|attr('_y')
            attr = getattr(node.args[0], "value", None)
        else:
            continue
        if isinstance(attr, str) and refused_attribute(attr):
            problems.append(LintProblem(name, source.where(node.lineno), (
                f"uses '{attr}', which the template sandbox refuses (no names starting with '_', "
                "no Python internals)")))
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Getattr) and call.node.attr in MUTATING_METHODS:
            problems.append(LintProblem(name, source.where(call.lineno), (
                f"calls '{call.node.attr}', which the template sandbox refuses (templates may not "
                "change the letter's data)")))
    return problems


_TAG = re.compile(r"<(\w+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""")
_FETCHED = {"src", "data", "poster"}


def _urls(text: str) -> list[tuple[str, int]]:
    """The URLs WeasyPrint would fetch for HTML or CSS text, with their offsets (links are not
    fetched, except attachments and stylesheets)."""
    found: list[tuple[str, int]] = []
    for tag in _TAG.finditer(text):
        attributes = {m.group(1).lower(): (next(g for g in m.groups()[1:] if g is not None), m.start())
                      for m in _ATTRIBUTE.finditer(tag.group(2))}
        rel = attributes.get("rel", ("", 0))[0].lower().split()
        for key, (value, offset) in attributes.items():
            fetched = key in _FETCHED or (key == "href" and (
                tag.group(1).lower() == "link" or "attachment" in rel))
            if fetched:
                found.append((value, tag.start(2) + offset))
    for match in _CSS_URL.finditer(text):
        found.append((next(g for g in match.groups() if g is not None), match.start()))
    return found


def _fetch_problems(template: TemplateFile, folder: TemplateFolder, source: _Source) -> list[LintProblem]:
    """URLs in an HTML or CSS template that WeasyPrint would be refused."""
    home = folder.bundled if template.origin == "bundled" or folder.user is None else folder.user
    policy: FetchPolicy = fetch_policy(home, folder.user)
    problems = []
    for url, offset in _urls(source.text):
        if "{{" in url or "{%" in url or not url.strip() or url.startswith("#"):
            continue
        if not url_allowed(url, policy):
            line = source.text.count("\n", 0, offset) + 1
            problems.append(LintProblem(template.name, source.where(line), (
                f"fetches '{url}', which templates may not: only files in the template folder and "
                "the compact_docs package, and data: URLs (no other file://, no network)")))
    return problems


def lint_folder(folder: str | Path | None = None) -> list[LintProblem]:
    """Lint every template in a folder (with the bundled ones behind it), or the bundled ones."""
    templates = TemplateFolder(folder)
    problems: list[LintProblem] = []
    for name in linted_names(folder):
        try:
            found = templates.find(name)
        except CompactTemplateError as exc:
            problems.append(LintProblem(name, "file", str(exc)))
            continue
        if found is not None:
            problems += lint_template(found, templates)
    return problems


def linted_names(folder: str | Path | None = None) -> list[str]:
    """The template files `lint_folder` looks at."""
    templates = TemplateFolder(folder)
    if templates.user is not None:
        return sorted(p.name for p in templates.user.iterdir()
                      if p.is_file() and p.suffix in (".docx", ".html", ".css"))
    return templates.names()
