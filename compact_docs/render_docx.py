"""DOCX letters with docxtpl: one template read once, its Jinja compiled once, many letters."""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from typing import Any

from jinja2 import Environment, Template
from jinja2 import TemplateError as JinjaError

from compact_docs.errors import TemplateError
from compact_docs.letters import LetterContext
from compact_docs.template_folder import TemplateFile


def docx_environment() -> Environment:
    """The Jinja environment for DOCX templates: autoescaped, so values never become XML or code."""
    return Environment(autoescape=True)


class _CompileOnce:
    """Stands in for docxtpl's Jinja environment and compiles each distinct part only once.

    docxtpl compiles every part of the template on every render; for one template the parts are
    the same each time, so a batch of letters pays for compiling once.
    """

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.autoescape = environment.autoescape
        self._cache: dict[str, Template] = {}

    def from_string(self, source: str) -> Template:
        template = self._cache.get(source)
        if template is None:
            template = self._cache[source] = self.environment.from_string(source)
        return template


@lru_cache(maxsize=1)
def _letter_class() -> type[Any]:
    """docxtpl's template class, with core properties rendered unescaped (imported when needed)."""
    from docxtpl import DocxTemplate

    class _LetterTemplate(DocxTemplate):  # type: ignore[misc]
        properties_environment: Any = None

        def render_properties(self, context: dict[str, Any], jinja_env: Any = None) -> None:
            # python-docx escapes core properties itself, so they are rendered without escaping.
            super().render_properties(context, self.properties_environment)

    return _LetterTemplate


class DocxLetterTemplate:
    """A docxtpl template held in memory and rendered for as many letters as needed."""

    def __init__(self, template: TemplateFile) -> None:
        self.template = template
        self.source = template.read_bytes()
        self.sha256 = template.sha256()
        self._environment = _CompileOnce(docx_environment())
        self._properties = _CompileOnce(Environment(autoescape=False))

    def render(self, context: LetterContext) -> bytes:
        """The DOCX bytes of one letter; TemplateError if the template fails on it."""
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = _letter_class()(io.BytesIO(self.source))
            document.properties_environment = self._properties
            document.render(context.as_template_context(), self._environment, autoescape=True)
            out = io.BytesIO()
            document.save(out)
        except (PackageNotFoundError, zipfile.BadZipFile) as exc:
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) is not "
                                "a DOCX file") from exc
        except JinjaError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) failed "
                                f"on a {context.kind} letter{where}: {exc}") from exc
        except (KeyError, ValueError, AttributeError) as exc:
            raise TemplateError(f"template {self.template.name} ({self.template.origin}) is not "
                                f"a usable DOCX template: {exc}") from exc
        return out.getvalue()
