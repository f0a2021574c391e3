"""Working-day deadlines per stage: weekends and the jurisdiction's bank holidays do not count."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from compact_docs.case_deadlines import CaseDeadlines, overdue_line
from compact_docs.dates import is_working_day
from compact_docs.profile import load_profile
from compact_docs.register import Case
from mailflows.config import parse_config

CASE = Case(ref="BXC-2026-0001", organisation="Bexley Age Well", commissioned=True, sender="jo@agewell.example",
            stage=1, status="open", opened="2026-12-14T10:00:00+00:00", updated="2026-12-14T10:00:00+00:00",
            topic="Invoice", outcome=None, received="2026-12-14T09:00:00+00:00",
            stage_since="2026-12-14T09:00:00+00:00")
DEADLINES = CaseDeadlines.for_profile(load_profile("bexley"))


def test_ten_working_days_skip_christmas_and_boxing_day() -> None:
    # Mon 14 Dec 2026 + 10 working days: 25 Dec (Fri) and 28 Dec (Mon, Boxing Day substitute) do not count.
    assert DEADLINES.due(CASE) == date(2026, 12, 30)
    assert not DEADLINES.is_overdue(CASE, date(2026, 12, 30))
    assert DEADLINES.is_overdue(CASE, date(2026, 12, 31))
    assert DEADLINES.working_days_over(CASE, date(2027, 1, 4)) == 2  # 31 Dec, (1 Jan holiday), 4 Jan


def test_stage_2_has_twenty_days_and_a_stage_without_a_deadline_is_never_overdue() -> None:
    at_two = replace(CASE, stage=2)
    assert DEADLINES.due(at_two) == date(2027, 1, 14)
    assert DEADLINES.due(replace(CASE, stage=3)) is None
    assert DEADLINES.due(replace(CASE, status="closed")) is None
    assert DEADLINES.overdue([CASE, at_two, replace(CASE, stage=3)], date(2027, 1, 5)) == [CASE]


def test_the_time_at_a_stage_counts_from_the_first_message_in_the_local_day() -> None:
    late_evening = replace(CASE, stage_since="2026-06-30T23:30:00+00:00")  # 00:30 on 1 July in London
    assert DEADLINES.local_day(late_evening.stage_since or "") == date(2026, 7, 1)


def test_deadlines_come_from_the_configuration_with_defaults_filled_in() -> None:
    config = parse_config('[cases.deadlines]\nstage-2 = 5\nstage-3 = 15\n', "c.toml", Path("."))
    assert config.cases.deadline_days() == {1: 10, 2: 5, 3: 15}
    off = parse_config('[cases.deadlines]\nstage-1 = 0\n', "c.toml", Path("."))
    assert off.cases.deadline_days() == {2: 20}


def test_the_summary_line_names_each_overdue_case() -> None:
    line = overdue_line(DEADLINES, [CASE], date(2027, 1, 4))
    assert line == "overdue cases on 2027-01-04: 1 (BXC-2026-0001 stage 1, 2 working day(s) over)"
    assert overdue_line(DEADLINES, [CASE], date(2026, 12, 15)) == "overdue cases on 2026-12-15: none"


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(min_value=1, max_value=40))
def test_a_deadline_is_a_working_day_with_exactly_n_working_days_after_the_start(start: date, days: int) -> None:
    deadlines = CaseDeadlines({1: days})
    case = replace(CASE, stage_since=f"{start.isoformat()}T12:00:00+00:00")
    due = deadlines.due(case)
    assert due is not None and is_working_day(due) and due > start
    counted = sum(is_working_day(start + timedelta(days=n)) for n in range(1, (due - start).days + 1))
    assert counted == days
