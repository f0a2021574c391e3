"""DOCX letters with docxtpl: a template prepared and compiled once, then filled for many letters.

docxtpl, used per letter, re-opens the .docx, re-cleans and re-compiles its XML and re-saves every
part. Here docxtpl prepares each template part once (its `patch_xml` clean-up, Jinja compiled
once); each letter then only renders the parts that hold template code, applies docxtpl's own
post-processing (listing, table grid fix, drawing ids) and writes them into a copy of the package.
The text is what `DocxTemplate.render` produces (a test compares the two).
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, Template, nodes
from jinja2 import TemplateError as JinjaError
from lxml import etree

from compact_docs.errors import CompactError, TemplateError
from compact_docs.letters import LetterContext
from compact_docs.rendering.template_folder import TemplateFile
from compact_docs.rendering.template_policy import LetterSandbox, safe_docx_package

_CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
"""The core properties docxtpl renders as templates."""

_STATIC_LEVEL = 1
"""Deflate level for parts that never change (styles, theme): fast, and a few kB larger at most."""

_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def docx_environment(autoescape: bool = True) -> Environment:
    """The Jinja environment for DOCX templates: sandboxed, and autoescaped so that values never
    become XML or code (core properties are plain text, so not escaped)."""
    return LetterSandbox(autoescape=autoescape)


_DOCXTPL_ESCAPES = (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}"))
"""docxtpl's way for a template to print a literal '{{': written '{_{' and replaced after rendering."""


def _compiled(environment: Environment, source: str) -> Template:
    """A template compiled with docxtpl's escapes (`{_{` for a literal `{{`) resolved in the
    template's own text only, so the same characters in a letter's data print as they are."""
    ast = environment.parse(source)
    for node in ast.find_all(nodes.TemplateData):
        for escaped, literal in _DOCXTPL_ESCAPES:
            node.data = node.data.replace(escaped, literal)
    return environment.from_string(ast)


@dataclass(frozen=True)
class _PartTemplate:
    """One XML part of the package that holds template code, compiled."""

    zip_name: str
    compiled: Template
    encoding: str


def _prepared_source(xml: str) -> str:
    # The same pre-processing docxtpl's render_xml_part applies before compiling.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


class DocxLetterTemplate:
    """A docxtpl template held in memory and rendered for as many letters as needed."""

    def __init__(self, template: TemplateFile) -> None:
        self.template = template
        self.source = template.read_bytes()
        self.sha256 = template.sha256()
        try:
            self.package = safe_docx_package(self.source, f"{template.name} ({template.origin})")
            self._prepare()
        except JinjaError as exc:
            raise TemplateError(self._where(exc, "has a template error")) from exc
        except zipfile.BadZipFile as exc:
            raise TemplateError(f"template {template.name} ({template.origin}) is not a DOCX file "
                                "(a .docx is a zip package)") from exc
        except (KeyError, ValueError, AttributeError, etree.LxmlError) as exc:
            raise TemplateError(f"template {template.name} ({template.origin}) is not a usable DOCX "
                                f"template: {exc}") from exc

    def _where(self, exc: JinjaError, what: str) -> str:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        return f"template {self.template.name} ({self.template.origin}) {what}{where}: {exc}"

    def _prepare(self) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE
        from docx.opc.oxml import serialize_part_xml
        from docxtpl import DocxTemplate

        environment = docx_environment()
        self._properties_environment = docx_environment(autoescape=False)
        tpl = DocxTemplate(io.BytesIO(self.package))
        tpl.init_docx()
        self._tpl = tpl
        document = tpl.docx
        self._body = _compiled(environment, _prepared_source(tpl.patch_xml(tpl.get_xml())))
        skeleton = copy.deepcopy(document.element)
        body = skeleton.body
        for child in list(body):
            body.remove(child)
        body.append(etree.Comment("compact-docs body"))
        whole = serialize_part_xml(skeleton)
        empty_body = b"<w:body><!--compact-docs body--></w:body>"
        if whole.count(empty_body) != 1:
            raise ValueError("cannot find the document body")
        self._document_name = document.part.partname.lstrip("/")
        self._before_body, self._after_body = whole.split(empty_body)
        self._parts: list[_PartTemplate] = []
        for uri in (RELATIONSHIP_TYPE.HEADER, RELATIONSHIP_TYPE.FOOTER):
            for _, part in tpl.get_headers_footers(uri):
                xml = tpl.get_part_xml(part)
                encoding = tpl.get_headers_footers_encoding(xml)
                compiled = _compiled(environment, _prepared_source(tpl.patch_xml(xml)))
                self._parts.append(_PartTemplate(part.partname.lstrip("/"), compiled, encoding))
        for part in document.part.package.iter_parts():
            if part.content_type == _FOOTNOTES:
                blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
                compiled = _compiled(environment, _prepared_source(tpl.patch_xml(blob)))
                self._parts.append(_PartTemplate(part.partname.lstrip("/"), compiled, "utf-8"))
        self._core_part = next(p for p in document.part.package.iter_parts()
                               if p.partname == "/docProps/core.xml")
        self._core_templates = {
            name: self._properties_environment.from_string(getattr(document.core_properties, name) or "")
            for name in _CORE_PROPERTIES
        }
        with zipfile.ZipFile(io.BytesIO(self.package)) as package:
            self._entries = [(info, package.read(info.filename)) for info in package.infolist()]
        self._serialize: Callable[[Any], bytes] = serialize_part_xml

    def _finish(self, xml: str) -> str:
        # docxtpl's post-processing after rendering a part (render_xml_part).
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        # docxtpl would now turn '{_{' into '{{' everywhere, data included: that is done in the
        # template's own text when it is compiled (see _compiled).
        result: str = self._tpl.resolve_listing(xml)
        return result

    def render(self, context: LetterContext) -> bytes:
        """The DOCX bytes of one letter; TemplateError if the template fails on it."""
        from docx.oxml.parser import parse_xml

        values = context.as_template_context()
        try:
            body_xml = self._finish(self._body.render(values))
            tree = self._tpl.fix_tables(body_xml)
            self._tpl.docx_ids_index = 1000
            self._tpl.fix_docpr_ids(tree)
            replaced = {self._document_name: self._before_body + etree.tostring(tree) + self._after_body}
            for part in self._parts:
                xml = self._finish(part.compiled.render(values))
                replaced[part.zip_name] = self._serialize(parse_xml(xml.encode(part.encoding)))
            core = self._tpl.docx.core_properties
            for name, compiled in self._core_templates.items():
                # Word limits a core property to 255 characters.
                setattr(core, name, compiled.render(values)[:255])
            replaced[self._core_part.partname.lstrip("/")] = self._core_part.blob
        except JinjaError as exc:
            raise TemplateError(self._where(exc, f"failed on a {context.kind} letter")) from exc
        except (etree.LxmlError, ValueError) as exc:
            first = (str(exc).splitlines() or [""])[0][:200]
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) made "
                                f"invalid XML for a {context.kind} letter: {first}") from exc
        except CompactError:
            raise
        except Exception as exc:  # a template's own arithmetic (1/0) or a filter's error
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) failed on a "
                                f"{context.kind} letter: {type(exc).__name__}: {exc}") from exc
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            for info, content in self._entries:
                if info.filename in replaced:
                    package.writestr(info.filename, replaced[info.filename])
                else:
                    package.writestr(info.filename, content, compresslevel=_STATIC_LEVEL)
        return out.getvalue()
