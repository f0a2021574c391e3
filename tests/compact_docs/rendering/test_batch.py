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
from testdata import BATCH, PROFILES

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
    assert "2 of 5 rows written" in result.output
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["status"] for r in rows] == ["written", "refused", "refused", "written", "refused"]
    by_row = {r["row"]: r for r in rows}
    assert by_row["1"]["status"] == "written"
    assert by_row["2"]["status"] == "refused"
    assert "notice.effective: is not a real date" in by_row["2"]["reason"]
    assert by_row["3"]["status"] == "refused"
    assert "NOTICE_PERIOD" in by_row["3"]["reason"] and "NOTICE_PERIOD" in by_row["3"]["findings"]
    # Row 4 has the same reference and organisation as row 1: a unique name, not an overwrite.
    assert by_row["4"]["status"] == "written"
    assert by_row["4"]["files"] == "lbb-gr-2024-017_bexley-age-well_notice-2.docx"
    assert by_row["5"]["status"] == "refused"
    assert "organisation.name: is required but missing" in by_row["5"]["reason"]
    assert "row 2: refused" in result.output
    written = sorted(p.name for p in out.glob("*.docx"))
    assert written == ["lbb-gr-2024-017_bexley-age-well_notice-2.docx",
                       "lbb-gr-2024-017_bexley-age-well_notice.docx"]
    assert "Extra support for the second site" in docx_text(out / written[0])


def test_existing_files_are_refused_unless_forced(tmp_path: Path) -> None:
    first = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                defaults=DEFAULTS, workers=1))
    assert all(r.status == "written" for r in first)
    again = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                defaults=DEFAULTS, workers=1))
    assert all(r.status == "refused" and "already exists; use --force" in r.reason for r in again)
    forced = list(generate_batch(DATA / "register.csv", "notice", tmp_path, formats=("docx",),
                                 defaults=DEFAULTS, workers=1, force=True))
    assert all(r.status == "written" for r in forced)


def test_batch_output_matches_the_single_letter_path(tmp_path: Path) -> None:
    """Two worker processes, DOCX and PDF: the same text as `render` makes for the same row."""
    results = list(generate_batch(DATA / "register.csv", "notice", tmp_path / "batch",
                                  defaults=DEFAULTS, workers=2))
    assert [r.row for r in results] == [1, 2, 3]
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
    assert "notice.sent: must be a year between 1900 and 2200" in results[2].reason


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
