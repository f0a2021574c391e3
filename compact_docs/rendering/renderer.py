"""Making letters: check, build the wording, lay it out as DOCX and PDF, write files and a record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compact_docs.errors import ComplianceError, InvalidData
from compact_docs.letters import LetterContext, letter_context
from compact_docs.loading import as_letter
from compact_docs.models import Letter, NoticeLetter
from compact_docs.rendering.deadlines import deadline_record, letter_deadlines
from compact_docs.rendering.docx import DocxLetterTemplate
from compact_docs.rendering.output import (
    letter_stem,
    prepare_folder,
    refuse_overwrite,
    target_path,
    write_letter,
)
from compact_docs.rendering.pdf import DataAttachment, HtmlLetterTemplate, write_pdf
from compact_docs.rendering.template_folder import TemplateFile, TemplateFolder
from compact_docs.rules.checks import Report, check_letter, exceptional_circumstances
from compact_docs.rules.profile import Profile, load_profile
from compact_docs.uk_input import DEFAULT_DATE_LOCALE, DateLocale

FORMATS: tuple[str, ...] = ("docx", "pdf")
"""The output formats, in the order files are written."""

DataSource = str | Path | Mapping[str, Any] | Letter
"""A letter's data: a YAML or JSON file, a mapping, or a validated model."""


def letter_data_json(letter: Letter) -> bytes:
    """The letter's validated data as canonical JSON: hashed in the manifest, attached to PDF/A."""
    return json.dumps(letter.model_dump(mode="json"), ensure_ascii=False, indent=2,
                      sort_keys=True).encode("utf-8")


def file_stem(context: LetterContext) -> str:
    """'lbb-gr-2024-017_bexley-age-well_notice', 'bxc-2026-0007_bexley-age-well_escalation-stage-2'."""
    kind = f"{context.kind}-stage-{context.stage}" if context.stage is not None else context.kind
    return letter_stem(context.reference, context.organisation, kind)


@dataclass
class PreparedLetter:
    """A letter that passed its checks, with its wording built, ready to lay out.

    The letter, its report and its profile are the context's own (the wording was built from them).
    """

    context: LetterContext
    source: str | None = None
    source_sha256: str | None = None

    @property
    def letter(self) -> Letter:
        """The letter's validated data."""
        return self.context.letter

    @property
    def report(self) -> Report:
        """What the checks found."""
        return self.context.report

    @property
    def profile(self) -> Profile:
        """The Compact the letter was checked against."""
        return self.context.profile

    @property
    def data_json(self) -> bytes:
        """The canonical JSON of the letter's data."""
        return letter_data_json(self.letter)


@dataclass
class RenderedLetter:
    """One letter laid out in memory: file name stem and the bytes of each format."""

    prepared: PreparedLetter
    stem: str
    documents: dict[str, bytes]
    templates: list[dict[str, str]]
    archival: bool = False


@dataclass
class RenderResult:
    """What `render` wrote: the files, the compliance report (with any warnings), the manifest."""

    files: list[Path]
    report: Report
    manifest: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)


class Renderer:
    """Loads and compiles each template once, then checks, lays out and writes many letters.

    `templates` is a folder whose files override the bundled templates by name; `profile` (a
    name, a path or a Profile) overrides the profile each letter names; `date_locale` says how a
    numeric date such as 01/04/2025 is read (en-GB, day first, by default; ISO dates always work).
    """

    def __init__(self, templates: str | Path | None = None,
                 profile: str | Path | Profile | None = None,
                 date_locale: DateLocale = DEFAULT_DATE_LOCALE) -> None:
        self.date_locale = date_locale
        self.folder = TemplateFolder(templates)
        if profile is None or isinstance(profile, Profile):
            self.profile = profile
        else:
            self.profile = load_profile(profile)
        self._docx: dict[tuple[str, str], DocxLetterTemplate] = {}
        self._html: dict[tuple[str, str], HtmlLetterTemplate] = {}
        self._hashes: dict[tuple[str, str], str] = {}

    # -- checking and wording ---------------------------------------------------------------

    def prepare(self, data: DataSource, kind: str | None = None) -> PreparedLetter:
        """Load and check a letter, and build its wording.

        Raises InvalidData for bad data and ComplianceError (carrying the report) when a check
        finds an error: nothing is laid out or written for such a letter.
        """
        source = source_sha256 = None
        letter = as_letter(data, kind, self.date_locale)  # first: it refuses an oversized file unread
        if isinstance(data, (str, Path)):
            source = str(data)
            try:
                source_sha256 = hashlib.sha256(Path(data).read_bytes()).hexdigest()
            except OSError:
                source_sha256 = None
        if kind is not None and letter.kind != kind:
            raise InvalidData(f"{source or 'data'}: the data is a {letter.kind!r} letter, "
                              f"not {kind!r}")
        profile = self.profile or load_profile(letter.profile)
        report = check_letter(letter, profile)
        if not report.compliant:
            codes = ", ".join(sorted({f.code for f in report.errors}))
            count = len(report.errors)
            raise ComplianceError(
                f"{letter.kind} letter refused, nothing written: {count} error "
                f"finding{'s' if count != 1 else ''} ({codes})", report)
        context = letter_context(letter, report, profile)
        return PreparedLetter(context, source, source_sha256)

    # -- layout -------------------------------------------------------------------------------

    def docx_template(self, kind: str, stage: int | None = None) -> DocxLetterTemplate:
        """The compiled DOCX template for a kind (and escalation stage)."""
        found = self.folder.for_letter(kind, "docx", stage)
        key = (found.origin, found.name)
        if key not in self._docx:
            self._docx[key] = DocxLetterTemplate(found)
        return self._docx[key]

    def html_template(self, kind: str, stage: int | None = None) -> HtmlLetterTemplate:
        """The compiled HTML template for a kind (and escalation stage)."""
        found = self.folder.for_letter(kind, "pdf", stage)
        key = (found.origin, found.name)
        if key not in self._html:
            self._html[key] = HtmlLetterTemplate(self.folder, found)
        return self._html[key]

    def docx(self, context: LetterContext) -> bytes:
        """The DOCX bytes of a letter."""
        return self.docx_template(context.kind, context.stage).render(context)

    def html(self, context: LetterContext) -> str:
        """The HTML of a letter, before WeasyPrint (a batch may combine or print it itself)."""
        return self.html_template(context.kind, context.stage).html(context)

    def pdf(self, prepared: PreparedLetter, archival: bool = False) -> bytes:
        """The PDF bytes of a letter: tagged PDF/UA-1, or PDF/A-3b with its data attached."""
        template = self.html_template(prepared.context.kind, prepared.context.stage)
        html = template.html(prepared.context)
        attachments: tuple[DataAttachment, ...] = ()
        if archival:
            name = f"{file_stem(prepared.context)}.json"
            attachments = (DataAttachment(name, prepared.data_json),)
        return write_pdf(html, archival=archival, attachments=attachments, policy=template.fetch_policy)

    def lay_out(self, prepared: PreparedLetter, formats: Iterable[str] = FORMATS,
                archival: bool = False) -> RenderedLetter:
        """Lay a prepared letter out in memory in each format asked for."""
        wanted = _formats(formats)
        context = prepared.context
        documents: dict[str, bytes] = {}
        templates: list[dict[str, str]] = []
        if "docx" in wanted:
            docx = self.docx_template(context.kind, context.stage)
            documents["docx"] = docx.render(context)
            templates.append(self._describe("docx", docx.template))
        if "pdf" in wanted:
            html = self.html_template(context.kind, context.stage)
            documents["pdf"] = self.pdf(prepared, archival)
            templates += [self._describe("pdf", t) for t in html.files]
        return RenderedLetter(prepared, file_stem(context), documents, templates, archival)

    def _describe(self, output_format: str, template: TemplateFile) -> dict[str, str]:
        key = (template.origin, template.name)
        if key not in self._hashes:
            self._hashes[key] = template.sha256()
        return {"format": output_format, "name": template.name, "origin": template.origin,
                "sha256": self._hashes[key]}

    # -- writing ------------------------------------------------------------------------------

    def write(self, rendered: RenderedLetter, out_dir: str | Path,
              force: bool = False) -> RenderResult:
        """Write a laid-out letter's files and append its record to the folder's manifest.

        Every target is checked before any is written: an existing file (without `force`), a
        symbolic link or a name that would leave the folder raises OutputError and nothing is
        written. The files and the record are written together or not at all (`write_letter`);
        a file another process made meanwhile is never replaced unless `force`.
        """
        folder = prepare_folder(out_dir)
        targets = {fmt: target_path(folder, f"{rendered.stem}.{fmt}") for fmt in rendered.documents}
        refuse_overwrite(targets.values(), force)
        files: list[dict[str, Any]] = []
        for fmt, path in targets.items():
            content = rendered.documents[fmt]
            files.append({"name": path.name, "format": fmt, "bytes": len(content),
                          "sha256": hashlib.sha256(content).hexdigest()})
        record = self._record(rendered, files)
        manifest = write_letter(folder, [(path, rendered.documents[fmt]) for fmt, path in targets.items()],
                                record, force)
        return RenderResult([Path(out_dir) / f["name"] for f in files],
                            rendered.prepared.report, manifest, record)

    def _record(self, rendered: RenderedLetter, files: list[dict[str, Any]]) -> dict[str, Any]:
        from compact_docs import __version__

        prepared = rendered.prepared
        context = prepared.context
        return {
            "made": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": context.kind,
            "stage": context.stage,
            "profile": prepared.profile.id,
            "title": context.title,
            "reference": context.reference,
            "organisation": context.organisation,
            "templates": rendered.templates,
            "data": {"source": prepared.source, "source_sha256": prepared.source_sha256,
                     "sha256": hashlib.sha256(prepared.data_json).hexdigest()},
            "compliant": prepared.report.compliant,
            "findings": [f.to_dict() for f in prepared.report.findings],
            "dates": {k: v.isoformat() for k, v in prepared.report.dates.items()},
            "archival": rendered.archival,
            "deadlines": [deadline_record(d) for d in letter_deadlines(prepared.letter)],
            **notice_record(prepared.letter),
            "files": files,
            "compact_docs": __version__,
        }

    def render(self, data: DataSource, formats: Iterable[str] = FORMATS,
               out_dir: str | Path = ".", *, kind: str | None = None, force: bool = False,
               archival: bool = False) -> RenderResult:
        """Check, lay out and write one letter (see `render`)."""
        prepared = self.prepare(data, kind)
        return self.write(self.lay_out(prepared, formats, archival), out_dir, force)


def notice_record(letter: Letter) -> dict[str, Any]:
    """What a notice's manifest record adds for the Compact Working Group's report: the decision's
    action and whether shorter notice relied on exceptional circumstances (other kinds add nothing)."""
    if not isinstance(letter, NoticeLetter):
        return {}
    claimed, _reason = exceptional_circumstances(letter.notice)
    return {"notice": {"action": letter.decision.action, "delivery": letter.notice.delivery,
                       "exceptional_circumstances": claimed}}


def render_examples(out_dir: str | Path, formats: Iterable[str] = FORMATS, force: bool = False,
                    templates: str | Path | None = None) -> list[RenderResult]:
    """Write every bundled example letter (every kind and escalation stage) to `out_dir`."""
    from compact_docs.examples import example_files
    from compact_docs.loading import parse_text

    renderer = Renderer(templates=templates)
    prepared = []
    for example in example_files():
        data = parse_text(example.read_text(encoding="utf-8"), example.name)
        prepared.append(renderer.prepare(data))
    rendered = [renderer.lay_out(p, formats) for p in prepared]
    folder = prepare_folder(out_dir)
    # Check every file first, so an existing one stops the demo before anything is written.
    refuse_overwrite([target_path(folder, f"{r.stem}.{fmt}") for r in rendered
                      for fmt in r.documents], force)
    return [renderer.write(r, out_dir, force=True) for r in rendered]


def _formats(formats: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise InvalidData(f"unknown output format {', '.join(unknown) or '(none)'}: use "
                          f"{' or '.join(FORMATS)}")
    return wanted


def render(
    data: DataSource,
    formats: Iterable[str] = FORMATS,
    out_dir: str | Path = ".",
    profile: str | Path | Profile | None = None,
    templates: str | Path | None = None,
    force: bool = False,
    archival: bool = False,
    kind: str | None = None,
) -> RenderResult:
    """Check a letter against its Compact and, if no check finds an error, write it.

    `data` is a YAML/JSON file, a mapping or a model. Writes `<stem>.docx` and/or `<stem>.pdf`
    in `out_dir` and appends a record to its `manifest.jsonl`. Raises ComplianceError (with the
    report) when a check finds an error, InvalidData for bad data, TemplateError for a broken
    template and OutputError when a file exists (unless `force`) or a name is unsafe.
    """
    renderer = Renderer(templates=templates, profile=profile)
    return renderer.render(data, formats, out_dir, kind=kind, force=force, archival=archival)
