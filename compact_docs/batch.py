"""Batch letters from a grants register: every row checked, written or refused, and reported."""

from __future__ import annotations

import contextlib
import csv
import ctypes
import gc
import io
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Literal

from compact_docs.deadlines import Deadline, letter_deadlines, write_calendar
from compact_docs.errors import CompactError, ComplianceError, OutputError
from compact_docs.output import prepare_folder, target_path, write_atomic
from compact_docs.profile import Profile
from compact_docs.renderer import FORMATS, Renderer, file_stem
from compact_docs.rows import Row, read_rows, rows_from

CHUNK_SIZE = 8
"""Rows sent to a worker at a time when only DOCX is made (a few ms a letter): enough to amortise
the hand-over, few enough to balance."""

PDF_CHUNK_SIZE = 2
"""Rows sent at a time when PDFs are made (about 0.1 s a letter): the hand-over is negligible, and
small chunks keep every worker busy to the end instead of one finishing a long chunk alone."""

LETTERS_PER_WORKER = 250
"""A worker process is replaced after this many letters, so a long batch keeps a bounded footprint."""

REPORT_CSV = "report.csv"
REPORT_JSON = "report.json"
CALENDAR = "deadlines.ics"


@dataclass
class RowResult:
    """What happened to one row: the files written, or why it was refused, and the findings."""

    row: int
    status: Literal["written", "refused"]
    organisation: str = ""
    reference: str = ""
    files: list[str] = field(default_factory=list)
    reason: str = ""
    findings: list[dict[str, str]] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The row as report.json lists it."""
        data = asdict(self)
        data["deadlines"] = [{"date": d.day.isoformat(), "summary": d.summary} for d in self.deadlines]
        return data


@dataclass(frozen=True)
class _Job:
    number: int
    data: Any
    stem: str


@dataclass(frozen=True)
class _Settings:
    kind: str
    formats: tuple[str, ...]
    out_dir: str
    templates: str | None
    profile: str | Profile | None
    archival: bool
    force: bool = False


_worker_renderer: Renderer | None = None
_worker_settings: _Settings | None = None


def _start_worker(settings: _Settings, parent: int) -> None:
    global _worker_renderer, _worker_settings
    _die_with(parent)
    _worker_settings = settings
    _worker_renderer = Renderer(templates=settings.templates, profile=settings.profile)


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
    try:
        prepared = renderer.prepare(job.data, settings.kind)
        rendered = renderer.lay_out(prepared, settings.formats, settings.archival)
        rendered.stem = job.stem
        # The main process already refused rows whose files existed; one that another batch made
        # since is still never replaced (unless forced): the row is refused "already exists".
        result = renderer.write(rendered, settings.out_dir, force=settings.force)
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
) -> Iterator[RowResult]:
    """Check and write a letter for each row, yielding one RowResult per row, in row order.

    Rows with bad data, error findings or an existing output file (unless `force`) are refused
    and reported, never written; the others are laid out in `workers` processes (default: the
    number of cores; 1 lays out in this process). Two rows that would share a file name get
    `-2`, `-3` ... suffixes. Raises InvalidData only when the rows file itself cannot be read.
    """
    folder = prepare_folder(out_dir)
    wanted = tuple(dict.fromkeys(formats))
    renderer = Renderer(templates=templates, profile=profile)
    settings = _Settings(kind, wanted, str(folder), str(templates) if templates else None,
                         profile if isinstance(profile, Profile) else (str(profile) if profile else None),
                         archival, force)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count > 1 and "pdf" in wanted and _context().get_start_method() == "fork":
        # Workers forked after this start with WeasyPrint, fonts and HarfBuzz already loaded.
        from compact_docs.render_pdf import warm_up

        warm_up()
    pool = _Pool(count, settings) if count > 1 else None
    used: set[str] = set()
    # Each entry is either a finished result or a pending chunk; yielded strictly in row order.
    pending: deque[RowResult | tuple[list[int], Future[list[RowResult]]]] = deque()
    chunk: list[_Job] = []
    chunk_size = PDF_CHUNK_SIZE if "pdf" in wanted else CHUNK_SIZE
    in_flight_limit = max(2, count * 3)

    def flush() -> None:
        nonlocal chunk
        if not chunk:
            return
        if pool is None:
            pending.extend(_lay_out_and_write(renderer, settings, job) for job in chunk)
        else:
            pending.append(([j.number for j in chunk], pool.submit(chunk)))
        chunk = []

    def drain(limit: int) -> Iterator[RowResult]:
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

    try:
        for row in _as_rows(rows, kind, defaults):
            if row.problem is not None:
                flush()
                pending.append(RowResult(row.number, "refused", reason=row.problem))
                yield from drain(in_flight_limit)
                continue
            try:
                prepared = renderer.prepare(row.data, kind)
            except ComplianceError as exc:
                report = exc.report
                findings = [f.to_dict() for f in getattr(report, "findings", [])]
                flush()
                pending.append(RowResult(row.number, "refused", reason=str(exc), findings=findings))
                yield from drain(in_flight_limit)
                continue
            except CompactError as exc:
                flush()
                pending.append(RowResult(row.number, "refused", reason=str(exc)))
                yield from drain(in_flight_limit)
                continue
            except Exception as exc:  # a fault in one row must not stop the batch or lose the report
                flush()
                pending.append(RowResult(row.number, "refused",
                                         reason=f"could not be checked ({type(exc).__name__}: {exc})"))
                yield from drain(in_flight_limit)
                continue
            stem = _unique_stem(file_stem(prepared.context), used)
            try:
                existing = [target_path(folder, f"{stem}.{fmt}") for fmt in wanted]
            except OutputError as exc:  # a symbolic link where the letter would go: this row only
                refusal: str | None = str(exc)
            else:
                clash = None if force else next((p for p in existing if os.path.lexists(p)), None)
                refusal = f"{clash.name} already exists; use --force to replace it" if clash else None
            if refusal is not None:
                flush()
                pending.append(RowResult(
                    row.number, "refused", organisation=prepared.context.organisation,
                    reference=prepared.context.reference, reason=refusal,
                    findings=[f.to_dict() for f in prepared.report.findings]))
                yield from drain(in_flight_limit)
                continue
            chunk.append(_Job(row.number, prepared.letter.model_dump(mode="json"), stem))
            if len(chunk) >= chunk_size:
                flush()
                yield from drain(in_flight_limit)
        flush()
        yield from drain(0)
    finally:
        if pool is not None:
            pool.close()


def _unique_stem(stem: str, used: set[str]) -> str:
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate)
    return candidate


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_text(cell: str) -> str:
    """A report.csv cell that a spreadsheet shows as text, never runs as a formula.

    As OWASP advises for CSV injection, a cell that starts with = + - @, a tab or a line break
    (or with = + - @ after leading spaces) gets a leading apostrophe.
    """
    if cell.startswith(_FORMULA_STARTS) or cell.lstrip().startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


@dataclass
class BatchSummary:
    """The whole batch: every row's result and where the reports were written."""

    results: list[RowResult]
    report_csv: Path
    report_json: Path
    calendar: Path | None = None

    @property
    def written(self) -> int:
        """Rows whose letters were written."""
        return sum(r.status == "written" for r in self.results)

    @property
    def refused(self) -> int:
        """Rows that were refused."""
        return sum(r.status == "refused" for r in self.results)


def write_reports(results: list[RowResult], out_dir: str | Path, calendar: bool = False) -> BatchSummary:
    """Write report.csv and report.json (and deadlines.ics when asked) for a batch's results."""
    folder = prepare_folder(out_dir)
    ordered = sorted(results, key=lambda r: r.row)
    csv_path = folder / REPORT_CSV
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["row", "status", "organisation", "reference", "files", "reason", "findings"])
    for r in ordered:
        findings = "; ".join(f"{f['severity']} {f['code']}: {f['message']}" for f in r.findings)
        writer.writerow([r.row, r.status, *(spreadsheet_text(cell) for cell in (
            r.organisation, r.reference, " | ".join(r.files), r.reason, findings))])
    # Reports replace what is there, never writing through a symbolic link out of the folder.
    write_atomic(csv_path, table.getvalue().encode("utf-8"))
    json_path = folder / REPORT_JSON
    summary = {"rows": len(ordered), "written": sum(r.status == "written" for r in ordered),
               "refused": sum(r.status == "refused" for r in ordered),
               "results": [r.to_dict() for r in ordered]}
    write_atomic(json_path, json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))
    ics = None
    if calendar:
        ics = write_calendar([d for r in ordered for d in r.deadlines], folder / CALENDAR)
    return BatchSummary(ordered, csv_path, json_path, ics)


def run_batch(
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
    calendar: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[RowResult], None] | None = None,
) -> BatchSummary:
    """Run a whole batch and write its reports (report.csv, report.json, deadlines.ics).

    The rows are read in full first, so a rows file that cannot be read raises InvalidData before
    any letter is written. The reports are written even if the batch is interrupted, listing
    every row finished so far. `on_start(total)` and `on_result(result)` report progress.
    """
    all_rows = list(_as_rows(rows, kind, defaults))
    if on_start is not None:
        on_start(len(all_rows))
    results: list[RowResult] = []
    try:
        for result in generate_batch(all_rows, kind, out_dir, formats=formats, workers=workers,
                                     profile=profile, templates=templates, force=force, archival=archival):
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        summary = write_reports(results, out_dir, calendar=calendar)
    return summary
