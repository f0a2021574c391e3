"""Batch letters from a grants register: every row checked, written or refused, and reported."""

from __future__ import annotations

import contextlib
import csv
import ctypes
import gc
import hashlib
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
from datetime import UTC, date, datetime
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Literal

from compact_docs.deadlines import Deadline, deadline_record, letter_deadlines, write_calendar
from compact_docs.errors import CompactError, ComplianceError, InvalidData, OutputError
from compact_docs.output import prepare_folder, read_manifest, target_path, write_atomic
from compact_docs.profile import Profile
from compact_docs.renderer import FORMATS, Renderer, file_stem
from compact_docs.rows import Row, read_rows, rows_from
from compact_docs.uk_input import DEFAULT_DATE_LOCALE, DateLocale

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
RUNS_FOLDER = "reports"
RUN_PREFIX = "run-"
"""Each run's own report is kept as reports/run-<UTC time>.csv and .json."""


@dataclass
class RowResult:
    """What happened to one row: the files written, or why it was refused, and the findings.

    `row` is the row as a person sees it (in a CSV file, Excel's row number: the header is row 1).
    `already-made` means the row's letter is in the folder already, made from the same data (the
    manifest's hash): a re-run after fixing one row leaves the others as they were.
    """

    row: int
    status: Literal["written", "refused", "already-made"]
    organisation: str = ""
    reference: str = ""
    files: list[str] = field(default_factory=list)
    reason: str = ""
    findings: list[dict[str, str]] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The row as report.json lists it."""
        data = asdict(self)
        data["deadlines"] = [deadline_record(d) for d in self.deadlines]
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

    Rows with bad data, error findings or an existing output file (unless `force`) are refused
    and reported, never written; the others are laid out in `workers` processes (default: the
    number of cores; 1 lays out in this process). Two rows that would share a file name get
    `-2`, `-3` ... suffixes. Raises InvalidData only when the rows file itself cannot be read.
    """
    folder = prepare_folder(out_dir)
    wanted = tuple(dict.fromkeys(formats))
    renderer = Renderer(templates=templates, profile=profile, date_locale=date_locale)
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

    made = _made_from(folder)
    all_rows = list(_as_rows(rows, kind, defaults))
    duplicates = _duplicate_references(all_rows)

    def refuse(row: Row, reason: str, findings: list[dict[str, str]] | None = None) -> Iterator[RowResult]:
        flush()
        pending.append(RowResult(row.number, "refused", organisation=row.organisation(),
                                 reference=row.reference(), reason=reason, findings=findings or []))
        yield from drain(in_flight_limit)

    try:
        for row in all_rows:
            if row.problem is not None:
                yield from refuse(row, row.problem)
                continue
            if row.number in duplicates:
                yield from refuse(row, duplicates[row.number])
                continue
            try:
                prepared = renderer.prepare(row.data, kind)
            except ComplianceError as exc:
                report = exc.report
                yield from refuse(row, str(exc), [f.to_dict() for f in getattr(report, "findings", [])])
                continue
            except InvalidData as exc:
                yield from refuse(row, row.describe(exc.problems) if exc.source is not None else str(exc))
                continue
            except CompactError as exc:
                yield from refuse(row, str(exc))
                continue
            except Exception as exc:  # a fault in one row must not stop the batch or lose the report
                yield from refuse(row, f"could not be checked ({type(exc).__name__}: {exc})")
                continue
            context = prepared.context
            stem = _unique_stem(file_stem(context), used)
            names = [f"{stem}.{fmt}" for fmt in wanted]
            findings = [f.to_dict() for f in prepared.report.findings]
            try:
                existing = [n for n in names if os.path.lexists(target_path(folder, n))]
            except OutputError as exc:  # a symbolic link where the letter would go: this row only
                yield from refuse(row, str(exc), findings)
                continue
            if existing and not force:
                digest = hashlib.sha256(prepared.data_json).hexdigest()
                if len(existing) == len(names) and all(made.get(n) == digest for n in names):
                    flush()
                    pending.append(RowResult(row.number, "already-made", organisation=context.organisation,
                                             reference=context.reference, files=names, findings=findings,
                                             deadlines=letter_deadlines(prepared.letter)))
                    yield from drain(in_flight_limit)
                    continue
                yield from refuse(row, f"{existing[0]} already exists, made from other data: replace it "
                                       "with --force (force=True)", findings)
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


@dataclass
class BatchSummary:
    """The whole batch: every row's result and where the reports were written.

    `report_csv` and `report_json` are the folder's combined view (the latest result of every row
    of every run); `run_csv` and `run_json` this run's own report, kept under `reports/`.
    """

    results: list[RowResult]
    report_csv: Path
    report_json: Path
    calendar: Path | None = None
    run_csv: Path | None = None
    run_json: Path | None = None

    @property
    def written(self) -> int:
        """Rows whose letters were written by this run."""
        return sum(r.status == "written" for r in self.results)

    @property
    def already_made(self) -> int:
        """Rows whose letters were in the folder already, made from the same data."""
        return sum(r.status == "already-made" for r in self.results)

    @property
    def refused(self) -> int:
        """Rows that were refused."""
        return sum(r.status == "refused" for r in self.results)


REPORT_FIELDS = ["row", "status", "organisation", "reference", "files", "reason", "findings"]


def _csv_line(entry: dict[str, Any]) -> list[Any]:
    findings = "; ".join(f"{f['severity']} {f['code']}: {f['message']}" for f in entry["findings"])
    return [entry["row"], entry["status"], entry["organisation"], entry["reference"],
            " | ".join(entry["files"]), entry["reason"], findings]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_text(cell: Any) -> Any:
    """A report.csv cell that a spreadsheet shows as text, never runs as a formula.

    As OWASP advises for CSV injection, text that starts with = + - @, a tab or a line break (or
    with = + - @ after leading spaces) gets a leading apostrophe; numbers are left as they are.
    """
    if isinstance(cell, str) and (cell.startswith(_FORMULA_STARTS) or cell.lstrip().startswith(_FORMULA_STARTS)):
        return "'" + cell
    return cell


def _write_report(entries: list[dict[str, Any]], csv_path: Path, json_path: Path,
                  extra: dict[str, Any], columns: tuple[str, ...] = ()) -> None:
    # Reports replace what is there, never writing through a symbolic link out of the folder.
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow([*REPORT_FIELDS, *columns])
    for entry in entries:
        writer.writerow([spreadsheet_text(cell) for cell in (*_csv_line(entry), *(entry.get(c, "") for c in columns))])
    write_atomic(csv_path, table.getvalue().encode("utf-8"))
    summary = {**extra, "rows": len(entries),
               "written": sum(e["status"] == "written" for e in entries),
               "already_made": sum(e["status"] == "already-made" for e in entries),
               "refused": sum(e["status"] == "refused" for e in entries),
               "results": entries}
    write_atomic(json_path, json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))


def _run_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _combined(runs_folder: Path) -> list[dict[str, Any]]:
    """The latest result of each row (by rows file and row) over every run kept in `reports/`."""
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for path in sorted(runs_folder.glob(f"{RUN_PREFIX}*.json")):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for entry in run.get("results", []):
            key = (str(run.get("rows_file", "")), int(entry.get("row", 0)))
            latest[key] = {**entry, "run": run.get("run", ""), "rows_file": run.get("rows_file", "")}
    return [latest[key] for key in sorted(latest)]


def _folder_deadlines(folder: Path) -> list[Deadline]:
    """The deadlines of every letter in the folder (its manifest's latest record of each file that
    is still there), so the calendar covers letters made by earlier runs too."""
    by_uid: dict[str, Deadline] = {}
    for record in read_manifest(folder):
        files = [f.get("name") for f in record.get("files") or [] if isinstance(f, dict)]
        if not any(isinstance(name, str) and (folder / name).exists() for name in files):
            continue
        for item in record.get("deadlines") or []:
            try:
                deadline = Deadline(day=date.fromisoformat(item["date"]), summary=item["summary"],
                                    description=item.get("description", ""), uid=item["uid"])
            except (KeyError, TypeError, ValueError):
                continue
            by_uid[deadline.uid] = deadline
    return sorted(by_uid.values(), key=lambda d: (d.day, d.summary))


def write_reports(results: list[RowResult], out_dir: str | Path, calendar: bool = False,
                  rows_file: str = "") -> BatchSummary:
    """Write this run's report under `reports/`, the combined report.csv and report.json (every
    run's latest result of each row), and with `calendar` deadlines.ics for every letter in the
    folder."""
    folder = prepare_folder(out_dir)
    ordered = sorted(results, key=lambda r: r.row)
    runs = folder / RUNS_FOLDER
    if runs.is_symlink():
        raise OutputError(f"{runs} is a symbolic link; refusing to write the run's report through it")
    runs.mkdir(exist_ok=True)
    stamp = _run_stamp()
    run_csv, run_json = runs / f"{RUN_PREFIX}{stamp}.csv", runs / f"{RUN_PREFIX}{stamp}.json"
    _write_report([r.to_dict() for r in ordered], run_csv, run_json, {"run": stamp, "rows_file": rows_file})
    combined = _combined(runs)
    csv_path, json_path = folder / REPORT_CSV, folder / REPORT_JSON
    _write_report(combined, csv_path, json_path,
                  {"runs": sorted(p.stem[len(RUN_PREFIX):] for p in runs.glob(f"{RUN_PREFIX}*.json"))},
                  columns=("run", "rows_file"))
    ics = write_calendar(_folder_deadlines(folder), folder / CALENDAR) if calendar else None
    return BatchSummary(ordered, csv_path, json_path, ics, run_csv, run_json)


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
    date_locale: DateLocale = DEFAULT_DATE_LOCALE,
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
                                     profile=profile, templates=templates, force=force, archival=archival,
                                     date_locale=date_locale):
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        rows_file = Path(rows).name if isinstance(rows, (str, Path)) else ""
        summary = write_reports(results, out_dir, calendar=calendar, rows_file=rows_file)
    return summary
