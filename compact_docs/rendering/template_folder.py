"""Finding letter templates: the bundled ones, overridden by name by a user's template folder."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, TemplateNotFound

from compact_docs.errors import TemplateError
from compact_docs.rendering.template_policy import read_template_bytes

TEMPLATE_SUFFIXES = (".docx", ".html", ".css")
"""The files a template folder may hold: DOCX for docxtpl, HTML and CSS for WeasyPrint."""

EXTENSIONS = {"docx": "docx", "pdf": "html"}
"""The template file extension for each output format."""


def bundled_folder() -> Traversable:
    """The templates shipped inside the package (found the same way from a wheel or a checkout)."""
    return resources.files("compact_docs").joinpath("templates")


@dataclass(frozen=True)
class TemplateFile:
    """One template file and where it came from ('bundled' or the user's folder)."""

    name: str
    origin: str
    path: Traversable

    def read_bytes(self) -> bytes:
        """The file's bytes; TemplateError if it cannot be read."""
        try:
            return read_template_bytes(self.path, f"{self.name} ({self.origin})")
        except OSError as exc:
            raise TemplateError(f"cannot read template {self.name} ({self.origin}): "
                                f"{exc.strerror or exc}") from exc

    def sha256(self) -> str:
        """The SHA-256 of the file's bytes, as recorded in the manifest."""
        return hashlib.sha256(self.read_bytes()).hexdigest()


def candidate_names(kind: str, extension: str, stage: int | None = None) -> list[str]:
    """Template names tried in order: the stage's own, the kind's own, then the shared layout."""
    names = [f"{kind}-stage-{stage}.{extension}"] if stage is not None else []
    return [*names, f"{kind}.{extension}", f"letter.{extension}"]


class _TraversableLoader(BaseLoader):
    """A Jinja loader over a folder that may be a package resource rather than a plain path."""

    def __init__(self, folder: Traversable) -> None:
        self.folder = folder

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if "/" in template or "\\" in template or template.startswith("."):
            raise TemplateNotFound(template)
        path = self.folder.joinpath(template)
        if not path.is_file():
            raise TemplateNotFound(template)
        _refuse_link_out(self.folder, path, template)
        try:
            text = read_template_bytes(path, template).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"template {template} ({self.folder}) is not UTF-8 text") from exc
        return text, str(path), lambda: True

    def list_templates(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name.endswith(TEMPLATE_SUFFIXES))


def _refuse_link_out(folder: Traversable, path: Traversable, name: str) -> None:
    """TemplateError when a template is a link to a file outside its folder: templates may read
    only the files in their folder (and the package's)."""
    root = os.path.realpath(str(folder))
    if not os.path.realpath(str(path)).startswith(root.rstrip(os.sep) + os.sep):
        raise TemplateError(f"template {name} ({folder}) is a link to a file outside its folder, "
                            "which templates may not read")


class TemplateFolder:
    """The bundled templates, with a user's folder (if given) taking precedence name by name."""

    def __init__(self, user_folder: str | Path | None = None) -> None:
        self.user: Path | None = None
        if user_folder is not None:
            folder = Path(user_folder)
            if not folder.is_dir():
                raise TemplateError(f"template folder {folder} does not exist or is not a folder")
            self.user = folder
        self.bundled = bundled_folder()

    def find(self, name: str) -> TemplateFile | None:
        """A template by file name: the user's if it has one, else the bundled one, else None."""
        if self.user is not None and (self.user / name).is_file():
            _refuse_link_out(self.user, self.user / name, name)
            return TemplateFile(name, str(self.user), self.user / name)
        path = self.bundled.joinpath(name)
        if path.is_file():
            return TemplateFile(name, "bundled", path)
        return None

    def for_letter(self, kind: str, output_format: str, stage: int | None = None) -> TemplateFile:
        """The template that lays out a letter kind in a format ('docx' or 'pdf')."""
        names = candidate_names(kind, EXTENSIONS[output_format], stage)
        for name in names:
            found = self.find(name)
            if found is not None:
                return found
        raise TemplateError(f"no {output_format} template for {kind}: looked for "
                            f"{', '.join(names)}")

    def names(self) -> list[str]:
        """Every template name available, bundled or the user's."""
        found = {p.name for p in self.bundled.iterdir() if p.name.endswith(TEMPLATE_SUFFIXES)}
        if self.user is not None:
            found |= {p.name for p in self.user.iterdir() if p.name.endswith(TEMPLATE_SUFFIXES)}
        return sorted(found)

    def jinja_loader(self) -> BaseLoader:
        """A Jinja loader that resolves names (includes too) the same way as `find`."""
        loaders: list[BaseLoader] = [_TraversableLoader(self.bundled)]
        if self.user is not None:
            loaders.insert(0, _TraversableLoader(self.user))
        return ChoiceLoader(loaders)


@dataclass(frozen=True)
class TemplateChoice:
    """Which template lays out a letter kind (and escalation stage) in one output format."""

    kind: str
    stage: int | None
    output_format: str
    template: TemplateFile

    def line(self) -> str:
        """The choice in one line, as `templates list` shows it."""
        kind = self.kind + (f" stage {self.stage}" if self.stage else "")
        return f"{kind:<20} {self.output_format:<5} {self.template.name:<24} {self.template.origin}"


def templates_in_use(folder: TemplateFolder, kinds: tuple[str, ...],
                     stages: tuple[int, ...] = (1, 2, 3)) -> list[TemplateChoice]:
    """For each kind (each escalation stage) and format, the template that would be used."""
    choices = []
    for kind in kinds:
        for stage in (stages if kind == "escalation" else (None,)):
            for output_format in EXTENSIONS:
                found = folder.for_letter(kind, output_format, stage)
                choices.append(TemplateChoice(kind, stage, output_format, found))
    return choices
