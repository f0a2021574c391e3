"""Linting letter templates: Jinja syntax errors with file and line (DOCX: paragraph), names and
attributes the letter context does not have (with a guess at what was meant), and what the
template policy refuses (sandboxed names, files and URLs WeasyPrint may not read)."""

from __future__ import annotations

import difflib
import itertools
import re
import types
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes
from pydantic import BaseModel

from compact_docs.errors import TemplateError as CompactTemplateError
from compact_docs.kinds import KINDS
from compact_docs.letters.blocks import CONTEXT_NAMES
from compact_docs.models import model_for
from compact_docs.rendering.template_folder import TemplateFile, TemplateFolder
from compact_docs.rendering.template_policy import (
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


DATE_KEYS = ("notice_given", "earliest_effective", "effective", "funding_end", "beneficiary_notice",
             "beneficiary_notice_latest")
"""The keys `dates` can have (a template may write `dates.effective`)."""


def _context_types() -> dict[str, object]:
    from compact_docs.rules.checks import Report
    from compact_docs.rules.profile import Profile

    text = ("kind", "title", "sender", "reference", "organisation", "footer", "running_header",
            "layout", "lang", "subject")
    found: dict[str, object] = dict.fromkeys(text, str)
    found.update(blocks=list, letter="letter", profile=Profile, report=Report, letter_date=date,
                 stage=int, dates=dict)
    return found


def _public(kind: object) -> set[str]:
    return {name for name in dir(kind) if not name.startswith("_")}


def _attributes(current: object, kind: str) -> tuple[set[str], dict[str, object]]:
    """The attribute names a value of `current` has, and the type behind each one known."""
    if current == "letter":
        current = model_for(kind)
    if isinstance(current, type) and issubclass(current, BaseModel):
        fields = _model_fields(current)
        return set(fields) | _public(current), fields
    if current is dict:
        return set(DATE_KEYS) | _public(dict), dict.fromkeys(DATE_KEYS, date)
    if isinstance(current, type):
        hints = typing.get_type_hints(current) if hasattr(current, "__dataclass_fields__") else {}
        return _public(current) | set(hints), dict(hints)
    return set(), {}


def _chain_problem(name: str, chain: list[str], kind: str) -> tuple[int, list[str]] | None:
    """Where a chain such as `organisation.name` goes wrong for a kind: (index, close names)."""
    current: object = _context_types()[name]
    for index, attr in enumerate(chain):
        names, types_ = _attributes(current, kind)
        if not names:
            return None           # a list item, a string's method result...: not followed
        if attr not in names:
            return index, difflib.get_close_matches(attr, sorted(names), n=1, cutoff=0.7)
        annotation = types_.get(attr)
        inner = _submodel(annotation) if annotation is not None else None
        current = inner if inner is not None else (annotation if isinstance(annotation, type) else None)
        if current is None:
            return None
    return None


def _chain_message(name: str, chain: list[str], kinds: tuple[str, ...]) -> str | None:
    """None when every kind a template serves has the chain; else the problem, with a guess."""
    problems = {kind: _chain_problem(name, chain, kind) for kind in kinds}
    if any(problem is None for problem in problems.values()):
        return None
    dotted = ".".join([name, *chain])
    index, close = next(p for p in problems.values() if p is not None)
    guess = None
    if name != "letter" and any(_chain_problem("letter", [name, *chain], k) is None for k in kinds):
        guess = ".".join(["letter", name, *chain])
    elif close:
        guess = ".".join([name, *chain[:index], close[0], *chain[index + 1:]])
    if name == "letter":
        message = f"uses '{dotted}', which the {' or '.join(kinds)} letter data does not have"
    else:
        kind_of = _context_types()[name]
        what = getattr(kind_of, "__name__", str(kind_of))
        message = f"uses '{dotted}', but '{name}' (a {what}) has no '{chain[index]}'"
    return message + (f"; did you mean `{guess}`?" if guess else "")


def _context_chains(ast: nodes.Template) -> list[tuple[str, list[str], int]]:
    """Every outermost `name.a.b` chain on a context name the template does not set itself."""
    assigned = {node.name for node in ast.find_all(nodes.Name) if node.ctx in ("store", "param")}
    context = set(_context_types()) - assigned
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
        if isinstance(current, nodes.Name) and current.name in context:
            chains.append((current.name, list(reversed(attrs)), node.lineno))
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

    from compact_docs.rendering.template_policy import safe_docx_package

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
        from compact_docs.rendering.pdf import html_environment

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
        for name, chain, line in _context_chains(ast):
            message = _chain_message(name, chain, kinds)
            if message is not None:
                problems.append(LintProblem(template.name, source.where(line), message))
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
