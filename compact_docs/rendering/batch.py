"""Batch letters from a grants register: every row checked, written or refused, and reported."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, TypedDict, Unpack

from compact_docs.errors import CompactError, ComplianceError, InvalidData, OutputError
from compact_docs.rendering.batch_report import BatchSummary, RowResult, write_reports
from compact_docs.rendering.deadlines import letter_deadlines
from compact_docs.rendering.output import prepare_folder, read_manifest, target_path
from compact_docs.rendering.renderer import FORMATS, PreparedLetter, Renderer, file_stem
from compact_docs.rows import Row, read_rows, rows_from
from compact_docs.rules.profile import Profile
from compact_docs.uk_input import DEFAULT_DATE_LOCALE, DateLocale

CHUNK_SIZE = 8
"""Rows sent to a worker at a time when only DOCX is made (a few ms a letter): enough to amortise
the hand-over, few enough to balance."""

PDF_CHUNK_SIZE = 2
"""Rows sent at a time when PDFs are made (about 0.1 s a letter): the hand-over is negligible, and
small chunks keep every worker busy to the end instead of one finishing a long chunk alone."""

LETTERS_PER_WORKER = 250
"""A worker process is replaced after this many letters, so a long batch keeps a bounded footprint."""


@dataclass(frozen=True)
class _Job:
    """A row checked and worded in the main process, for a worker to lay out and write as `stem`.

    Its profile travels by name (see Profile.__reduce_ex__), so handing it over costs less than
    checking and wording it again.
    """

    number: int
    prepared: PreparedLetter
    stem: str


@dataclass(frozen=True)
class _Settings:
    """How a worker lays out and writes the letters it is handed."""

    formats: tuple[str, ...]
    out_dir: str
    templates: str | None
    archival: bool
    force: bool = False


_worker_renderer: Renderer | None = None
_worker_settings: _Settings | None = None


def _start_worker(settings: _Settings, parent: int) -> None:
    global _worker_renderer, _worker_settings
    _die_with(parent)
    _worker_settings = settings
    _worker_renderer = Renderer(templates=settings.templates)


def _die_with(parent: int) -> None:
    """End this worker when the batch process that started it ends, even by SIGKILL.

    Linux: the kernel sends SIGKILL to the worker when its parent dies (PR_SET_PDEATHSIG).
    Elsewhere: a thread notices that the worker has been handed to another parent.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, name="batch-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the worker could ask to follow it
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _lay_out_and_write(renderer: Renderer, settings: _Settings, job: _Job) -> RowResult:
    prepared = job.prepared
    try:
        rendered = renderer.lay_out(prepared, settings.formats, settings.archival)
        rendered.stem = job.stem
        # The main process already refused rows whose files existed; one that another batch made
        # since is still never replaced (unless forced): the row is refused "already exists".
        result = renderer.write(rendered, settings.out_dir, force=settings.force)
    except OutputError as exc:
        reason = str(exc)
        if exc.existing is not None:
            reason = (f"{exc.existing.name} already exists, made by another run meanwhile: replace it "
                      "with --force (force=True)")
        return RowResult(job.number, "refused", reason=reason)
    except CompactError as exc:
        return RowResult(job.number, "refused", reason=str(exc))
    except Exception as exc:  # a fault in one letter must not stop the batch
        return RowResult(job.number, "refused", reason=f"could not be laid out ({type(exc).__name__}: {exc})")
    context = prepared.context
    return RowResult(
        job.number, "written", organisation=context.organisation, reference=context.reference,
        files=[p.name for p in result.files],
        findings=[f.to_dict() for f in prepared.report.findings],
        deadlines=letter_deadlines(prepared.letter),
    )


def _worker_chunk(jobs: list[_Job]) -> list[RowResult]:
    assert _worker_renderer is not None and _worker_settings is not None
    return [_lay_out_and_write(_worker_renderer, _worker_settings, job) for job in jobs]


def _context() -> BaseContext:
    """fork on Linux: workers start at once with the parent's imports, and a caller's script needs
    no `if __name__ == "__main__"` guard; spawn elsewhere."""
    return get_context("fork" if sys.platform == "linux" else "spawn")


class _Pool:
    """Worker processes that are replaced after LETTERS_PER_WORKER letters each, on average."""

    def __init__(self, workers: int, settings: _Settings) -> None:
        self.workers = workers
        self.settings = settings
        self.executor: ProcessPoolExecutor | None = None
        self.sent = 0

    def submit(self, jobs: list[_Job]) -> Future[list[RowResult]]:
        starting = self.executor is None or self.sent >= LETTERS_PER_WORKER * self.workers
        if starting:
            if self.executor is not None:
                # Earlier chunks keep running to completion in the old processes.
                self.executor.shutdown(wait=False)
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_context(),
                initializer=_start_worker, initargs=(self.settings, os.getpid()))
            self.sent = 0
        assert self.executor is not None
        self.sent += len(jobs)
        # With fork, a new executor's first submit starts every worker.
        with _frozen_for_fork() if starting else contextlib.nullcontext():
            return self.executor.submit(_worker_chunk, jobs)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _frozen_for_fork() -> Iterator[None]:
    """Freeze this process's objects while workers are forked, then thaw them here.

    The workers inherit WeasyPrint, the fonts and the templates; frozen at the fork, those objects
    are never walked by a worker's garbage collector (fewer pages copied, about 5% faster). A
    caller that already froze its objects (a pre-fork server) is left as it was.
    """
    if _context().get_start_method() != "fork" or gc.get_freeze_count() > 0:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _as_rows(rows: str | Path | Iterable[Mapping[str, Any] | Row], kind: str,
             defaults: Mapping[str, Any] | str | Path | None) -> Iterator[Row]:
    if isinstance(rows, (str, Path)):
        return read_rows(rows, kind, defaults)
    return rows_from(rows, defaults)


def generate_batch(
    rows: str | Path | Iterable[Mapping[str, Any] | Row],
    kind: str,
    out_dir: str | Path = ".",
    *,
    formats: Iterable[str] = FORMATS,
    defaults: Mapping[str, Any] | str | Path | None = None,
    workers: int | None = None,
    profile: str | Profile | None = None,
    templates: str | Path | None = None,
    force: bool = False,
    archival: bool = False,
    date_locale: DateLocale = DEFAULT_DATE_LOCALE,
) -> Iterator[RowResult]:
    """Check and write a letter for each row, yielding one RowResult per row, in row order.

    Rows with bad data, error findings, a reference another row shares, or an existing output
    file made from other data (unless `force`) are refused and reported, never written; a row
    whose files were made from the same data is `already-made`; the others are laid out in
    `workers` processes (default: the number of cores; 1 lays out in this process). Two rows that
    would share a file name get `-2`, `-3` ... suffixes. Raises InvalidData only when the rows
    file itself cannot be read.
    """
    folder = prepare_folder(out_dir)
    wanted = tuple(dict.fromkeys(formats))
    renderer = Renderer(templates=templates, profile=profile, date_locale=date_locale)
    settings = _Settings(wanted, str(folder), str(templates) if templates else None, archival, force)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count > 1 and "pdf" in wanted and _context().get_start_method() == "fork":
        # Workers forked after this start with WeasyPrint, fonts and HarfBuzz already loaded.
        from compact_docs.rendering.pdf import warm_up

        warm_up()
    letters = _InRowOrder(renderer, settings, _Pool(count, settings) if count > 1 else None,
                          chunk_size=PDF_CHUNK_SIZE if "pdf" in wanted else CHUNK_SIZE,
                          in_flight=max(2, count * 3))
    all_rows = list(_as_rows(rows, kind, defaults))
    made = _Made(folder, _made_from(folder), _duplicate_references(all_rows), force)
    try:
        for row in all_rows:
            job = _job_or_refusal(renderer, row, kind, wanted, made)
            if isinstance(job, RowResult):
                letters.refuse(job)
                yield from letters.ready()
            elif letters.add(job):
                yield from letters.ready()
        yield from letters.finish()
    finally:
        letters.close()


@dataclass
class _Made:
    """What a batch knows before laying out a row: the folder, what its files were made from,
    the rows refused as duplicates, whether to replace files, and the file names already taken."""

    folder: Path
    digests: dict[str, str]
    duplicates: dict[int, str]
    force: bool
    used: set[str] = field(default_factory=set)


def _refused(row: Row, reason: str, findings: list[dict[str, str]] | None = None) -> RowResult:
    return RowResult(row.number, "refused", organisation=row.organisation(), reference=row.reference(),
                     reason=reason, findings=findings or [])


def _job_or_refusal(renderer: Renderer, row: Row, kind: str, formats: tuple[str, ...],
                    made: _Made) -> _Job | RowResult:
    """A row checked and worded, with its file name: or the row refused (or already made), and why."""
    if row.problem is not None:
        return _refused(row, row.problem)
    if row.number in made.duplicates:
        return _refused(row, made.duplicates[row.number])
    try:
        prepared = renderer.prepare(row.data, kind)
    except ComplianceError as exc:
        return _refused(row, str(exc), [f.to_dict() for f in exc.report.findings] if exc.report else [])
    except InvalidData as exc:
        return _refused(row, row.describe(exc.problems) if exc.source is not None else str(exc))
    except CompactError as exc:
        return _refused(row, str(exc))
    except Exception as exc:  # a fault in one row must not stop the batch or lose the report
        return _refused(row, f"could not be checked ({type(exc).__name__}: {exc})")
    context = prepared.context
    stem = _unique_stem(file_stem(context), made.used)
    names = [f"{stem}.{fmt}" for fmt in formats]
    findings = [f.to_dict() for f in prepared.report.findings]
    try:
        existing = [n for n in names if os.path.lexists(target_path(made.folder, n))]
    except OutputError as exc:  # a symbolic link where the letter would go: this row only
        return _refused(row, str(exc), findings)
    if not existing or made.force:
        return _Job(row.number, prepared, stem)
    digest = hashlib.sha256(prepared.data_json).hexdigest()
    if len(existing) == len(names) and all(made.digests.get(n) == digest for n in names):
        return RowResult(row.number, "already-made", organisation=context.organisation,
                         reference=context.reference, files=names, findings=findings,
                         deadlines=letter_deadlines(prepared.letter))
    return _refused(row, f"{existing[0]} already exists, made from other data: replace it "
                         "with --force (force=True)", findings)


class _InRowOrder:
    """Letters on their way through the workers (or this process), handed back in row order.

    Rows are sent in chunks; each pending entry is a finished result (a refused row) or a chunk
    in a worker. At most `in_flight` entries wait before the oldest is collected.
    """

    def __init__(self, renderer: Renderer, settings: _Settings, pool: _Pool | None, *,
                 chunk_size: int, in_flight: int) -> None:
        self.renderer = renderer
        self.settings = settings
        self.pool = pool
        self.chunk_size = chunk_size
        self.in_flight = in_flight
        self.pending: deque[RowResult | tuple[list[int], Future[list[RowResult]]]] = deque()
        self.chunk: list[_Job] = []

    def add(self, job: _Job) -> bool:
        """Queue a letter; True when that sent a chunk on its way."""
        self.chunk.append(job)
        if len(self.chunk) < self.chunk_size:
            return False
        self._send()
        return True

    def refuse(self, result: RowResult) -> None:
        """Queue a refused row's result, after the letters before it."""
        self._send()
        self.pending.append(result)

    def ready(self) -> Iterator[RowResult]:
        """The results in row order that can be had without keeping too many chunks waiting."""
        return self._collect(self.in_flight)

    def finish(self) -> Iterator[RowResult]:
        """Every result left, in row order."""
        self._send()
        return self._collect(0)

    def close(self) -> None:
        """Stop the workers."""
        if self.pool is not None:
            self.pool.close()

    def _send(self) -> None:
        chunk, self.chunk = self.chunk, []
        if not chunk:
            return
        if self.pool is None:
            self.pending.extend(_lay_out_and_write(self.renderer, self.settings, job) for job in chunk)
        else:
            self.pending.append(([j.number for j in chunk], self.pool.submit(chunk)))

    def _collect(self, limit: int) -> Iterator[RowResult]:
        pending = self.pending
        while pending and (len(pending) > limit or isinstance(pending[0], RowResult)):
            head = pending.popleft()
            if isinstance(head, RowResult):
                yield head
                continue
            numbers, future = head
            try:
                yield from future.result()
            except Exception as exc:  # a worker died: its rows are reported, never lost
                for number in numbers:
                    yield RowResult(number, "refused", reason=f"the worker laying out this letter failed: {exc!r}")


def _made_from(folder: Path) -> dict[str, str]:
    """Each file the folder's manifest lists, with the SHA-256 of the data it was last made from."""
    made: dict[str, str] = {}
    for record in read_manifest(folder):
        digest = (record.get("data") or {}).get("sha256")
        for entry in record.get("files") or []:
            if isinstance(entry, dict) and digest:
                made[str(entry.get("name"))] = str(digest)
    return made


def _duplicate_references(rows: list[Row]) -> dict[int, str]:
    """Rows that share a reference with another row of the batch, with the reason each is refused:
    one letter per funding agreement (or case), so neither is guessed to be the right one."""
    by_reference: dict[str, list[Row]] = {}
    for row in rows:
        if row.problem is None and row.reference():
            by_reference.setdefault(row.reference().casefold(), []).append(row)
    refused: dict[int, str] = {}
    for same in by_reference.values():
        if len(same) < 2:
            continue
        numbers = [r.number for r in same]
        listed = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
        for row in same:
            field = "funding.reference" if isinstance(row.data.get("funding"), Mapping) else "case_ref"
            column = row.column_of(field)
            where = f"{field} (column {column})" if column else field
            refused[row.number] = (f"{where}: {row.reference()!r} is on rows {listed} of this batch: "
                                   "one letter per reference; correct the reference or remove the duplicate row")
    return refused


def _unique_stem(stem: str, used: set[str]) -> str:
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate)
    return candidate


class LayoutOptions(TypedDict, total=False):
    """How `run_batch` lays letters out: the keyword arguments it hands to `generate_batch`."""

    formats: Iterable[str]
    defaults: Mapping[str, Any] | str | Path | None
    workers: int | None
    profile: str | Profile | None
    templates: str | Path | None
    force: bool
    archival: bool
    date_locale: DateLocale


def run_batch(
    rows: str | Path | Iterable[Mapping[str, Any] | Row],
    kind: str,
    out_dir: str | Path = ".",
    *,
    calendar: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[RowResult], None] | None = None,
    **options: Unpack[LayoutOptions],
) -> BatchSummary:
    """Run a whole batch and write its reports (report.csv, report.json, deadlines.ics).

    The rows are read in full first, so a rows file that cannot be read raises InvalidData before
    any letter is written. The reports are written even if the batch is interrupted, listing
    every row finished so far. `on_start(total)` and `on_result(result)` report progress; the
    other options are `generate_batch`'s.
    """
    all_rows = list(_as_rows(rows, kind, options.pop("defaults", None)))
    if on_start is not None:
        on_start(len(all_rows))
    results: list[RowResult] = []
    try:
        for result in generate_batch(all_rows, kind, out_dir, **options):
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        rows_file = Path(rows).name if isinstance(rows, (str, Path)) else ""
        summary = write_reports(results, out_dir, calendar=calendar, rows_file=rows_file)
    return summary
