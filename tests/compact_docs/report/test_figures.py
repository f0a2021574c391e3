"""The report's figures from Python: working days, stints at a stage, deadlines, notices, charts."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from report_data import Clock

from compact_docs.register.cases import CaseRegister
from compact_docs.register.records import Case, CaseEvent
from compact_docs.rendering.output import append_manifest
from compact_docs.report import (
    DEFAULT_DEADLINES,
    Chart,
    Period,
    Series,
    build_report,
)
from compact_docs.report._calendar import median, percentile_90, working_days_between
from compact_docs.report._charts import HATCHES, OKABE_ITO, chart_svg
from compact_docs.report._disputes import case_history
from compact_docs.report._notices import notice_records
from compact_docs.rules.dates import add_working_days
from compact_docs.rules.profile import load_profile


def test_working_days_leave_out_weekends_and_bank_holidays() -> None:
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 30)) == 1  # Friday -> Monday
    assert working_days_between(date(2025, 12, 24), date(2025, 12, 29)) == 1  # Christmas, Boxing Day
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert working_days_between(date(2026, 3, 5), date(2026, 3, 2)) == 0


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 60))
def test_working_days_between_undoes_add_working_days(start: date, count: int) -> None:
    assert working_days_between(start, add_working_days(start, count)) == count


def test_median_and_90th_percentile_by_nearest_rank() -> None:
    assert median([]) is None and percentile_90([]) is None
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 10]) == 2.5
    assert percentile_90(list(range(1, 11))) == 9 and percentile_90([4]) == 4
    assert percentile_90(list(range(1, 21))) == 18


def test_period_of_the_last_twelve_months() -> None:
    period = Period.last_months(12, date(2026, 11, 30))
    assert (period.start, period.end) == (date(2025, 12, 1), date(2026, 11, 30))
    assert period.month_labels()[0] == "Dec 2025" and len(period.months()) == 12
    assert date(2025, 11, 30) not in period and date(2026, 1, 1) in period


def test_the_report_takes_the_configurations_deadlines(tmp_path: Path) -> None:
    from mailflows.config import parse_config

    assert DEFAULT_DEADLINES == {1: 10, 2: 20}
    config = parse_config('profile = "bexley"\n[cases.deadlines]\nstage-1 = 5\nstage-3 = 40\n', "compact.toml",
                          tmp_path)
    assert config.cases.deadline_days() == {1: 5, 2: 20, 3: 40}
    assert parse_config('profile = "bexley"\n', "compact.toml", tmp_path).cases.deadline_days() == DEFAULT_DEADLINES


def _case(**changes: object) -> Case:
    base = {"ref": "BXC-2026-0001", "organisation": "Bexley Age Well", "commissioned": True,
            "sender": "jo@agewell.example", "stage": 2, "status": "open",
            "opened": "2026-03-02T09:00:00+00:00", "updated": "2026-03-20T09:00:00+00:00",
            "topic": "Late payment", "outcome": None}
    base.update(changes)
    return Case(**base)  # type: ignore[arg-type]


def _event(at: str, kind: str, stage: int) -> CaseEvent:
    return CaseEvent(at=f"{at}T10:00:00+00:00", kind=kind, stage=stage, actor="test", reason="", message_id=None)


def test_stints_follow_escalations_corrections_closing_and_reopening() -> None:
    events = [_event("2026-03-02", "opened", 1), _event("2026-03-03", "message", 1),
              _event("2026-03-16", "escalated", 2), _event("2026-03-20", "correction", 1),
              _event("2026-04-01", "closed", 1), _event("2026-04-10", "reopened", 1)]
    history = case_history(_case(stage=1), events)
    assert history.entry_stage == 1
    assert [(s.stage, s.start, s.end) for s in history.stints] == [
        (1, date(2026, 3, 2), date(2026, 3, 16)), (2, date(2026, 3, 16), date(2026, 3, 20)),
        (1, date(2026, 3, 20), date(2026, 4, 1)), (1, date(2026, 4, 10), None)]
    assert history.stage_since == date(2026, 4, 10)


def test_a_case_counts_from_when_its_first_message_came() -> None:
    case = dataclasses.replace(_case(), received="2026-02-20")
    history = case_history(case, [_event("2026-03-02", "opened", 2)])
    assert history.received == date(2026, 2, 20) and history.stints[0].start == date(2026, 2, 20)


def _register(tmp_path: Path, clock: Clock) -> CaseRegister:
    return CaseRegister(tmp_path / "cases.db", load_profile("bexley"), clock=clock)


def test_build_report_from_python(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 9, 1, 9, tzinfo=UTC))
    with _register(tmp_path, clock) as register:
        first = register.open_case(organisation="Bexley Age Well", commissioned=True, stage=1, topic="Late payment",
                                   actor="test", reason="")
        clock.now += timedelta(days=14)
        register.escalate(first.ref, actor="test", reason="No reply")
        for org in ("Welling Food Bank", "Sidcup Youth Arts", "Welling Food Bank"):
            register.open_case(organisation=org, commissioned=False, stage=2, topic="Monitoring", actor="test",
                               reason="")
        clock.now += timedelta(days=30)
        register.close_case(first.ref, actor="test", outcome="resolved informally.")
        report = build_report(register, period=Period(date(2026, 9, 1), date(2026, 10, 31)),
                              today=date(2026, 10, 31), anonymise=True)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["totals"]["cases_opened"] == 4 and data["totals"]["open_now"] == 3
    assert data["totals"]["escalations"] == 1 and data["totals"]["closed"] == 1
    open_cases = report.figure("open-cases")
    assert open_cases.finding.startswith("All 3 open cases are at stage 2; 3 are overdue")
    names = [row[0] for row in report.figure("organisations").table.rows]
    assert names == ["Organisation A", "Organisation B", "Organisation C"]
    time_at_stage = {row[0]: row[1:] for row in report.figure("time-at-stage").table.rows}
    assert time_at_stage["Stage 1"] == (1, 10.0, 10.0, 10)  # 1 Sep to 15 Sep 2026
    assert report.figure("outcomes").table.rows[0][0] == "Resolved informally"
    assert report.figure("escalations").finding == "1 escalation: 1 from stage 1 to stage 2."
    assert "no notices to count" in report.figure("notices-issued").finding


def test_notice_records_count_each_letter_once_and_read_old_manifests(tmp_path: Path) -> None:
    def record(sha: str, given: str, effective: str, earliest: str, **extra: object) -> dict[str, object]:
        return {"kind": "notice", "made": f"{given}T10:00:00+00:00", "data": {"sha256": sha},
                "dates": {"notice_given": given, "effective": effective, "earliest_effective": earliest},
                "findings": [], **extra}

    append_manifest(tmp_path, record("a", "2026-01-05", "2026-05-01", "2026-04-05",
                                     notice={"action": "end", "exceptional_circumstances": False}))
    append_manifest(tmp_path, record("a", "2026-01-05", "2026-05-01", "2026-04-05",
                                     notice={"action": "end", "exceptional_circumstances": False}))
    append_manifest(tmp_path, record("b", "2026-02-02", "2026-03-02", "2026-05-02"))  # before the field
    append_manifest(tmp_path, {"kind": "agreement", "data": {"sha256": "c"}, "dates": {}})
    found = notice_records([tmp_path])
    assert [(n.action, n.days, n.short, n.exceptional) for n in found] == [
        ("end", 116, False, False), ("not recorded", 28, True, None)]


def test_notice_manifest_records_the_action_and_exceptional_circumstances(tmp_path: Path) -> None:
    from compact_docs.examples import example_files
    from compact_docs.rendering.output import read_manifest
    from compact_docs.rendering.renderer import render

    notice = next(p for p in example_files() if p.name == "notice.yaml")
    render(notice, ["docx"], tmp_path)
    [written] = read_manifest(tmp_path)
    assert written["notice"] == {"action": "end", "delivery": "email", "exceptional_circumstances": False}
    assert notice_records([tmp_path])[0].action == "end"


def test_chart_svg_is_text_in_the_bundled_font_with_okabe_ito_and_hatches() -> None:
    chart = Chart("bar", ("Stage 1", "Stage 2"), (Series("Open", (3.0, 7.0)), Series("Overdue", (1.0, 2.0))),
                  "Cases")
    svg = chart_svg(chart, "c1", "Open cases. Most are at stage 2", "Most are at stage 2")
    assert svg.startswith("<svg") and "<?xml" not in svg and "<metadata" not in svg and "style=" not in svg
    assert '<title id="c1-title">Open cases. Most are at stage 2</title>' in svg
    assert re.findall(r"<text\b", svg) and "Compact Docs Sans" in svg
    assert OKABE_ITO[0].lower() in svg.lower() and OKABE_ITO[1].lower() in svg.lower()
    assert "<pattern" in svg and HATCHES[1]
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert all(i.startswith("c1") for i in ids) and len(ids) == len(set(ids))
    for ref in re.findall(r'(?:url\(#|href="#)([^)"]+)', svg):
        assert ref in ids
