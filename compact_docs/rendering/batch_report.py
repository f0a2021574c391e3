"""A batch's report: each row's result, every run's report under reports/, the combined report and calendar."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from compact_docs.errors import OutputError
from compact_docs.rendering.deadlines import Deadline, deadline_record, write_calendar
from compact_docs.rendering.output import prepare_folder, read_manifest, write_atomic

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

    def line(self, out_dir: str | Path) -> str:
        """The batch in one line: rows and files written (and already made), and where the reports are."""
        files = sum(len(r.files) for r in self.results if r.status == "written")
        made = f", {self.already_made} already made" if self.already_made else ""
        calendar = f"; calendar: {self.calendar}" if self.calendar else ""
        return (f"{self.written} of {len(self.results)} rows written ({files} files){made} to {out_dir}; "
                f"report: {self.report_csv}{calendar}")


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
