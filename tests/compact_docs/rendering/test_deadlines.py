"""Tests for compact_docs.rendering.deadlines: the .ics calendar of response deadlines and effective dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from icalendar import Calendar

from compact_docs.loading import load_letter
from compact_docs.rendering.deadlines import letter_deadlines, write_calendar


def test_calendar_has_deadline_and_effective_date(example: Callable[[str], dict[str, Any]],
                                                  tmp_path: Path) -> None:
    letters = [load_letter(example("notice")), load_letter(example("service-change")),
               load_letter(example("agreement"))]
    deadlines = [d for letter in letters for d in letter_deadlines(letter)]
    path = write_calendar(deadlines, tmp_path / "deadlines.ics")
    cal = Calendar.from_ical(path.read_bytes())
    events = {str(e["summary"]): e.decoded("dtstart") for e in cal.walk("VEVENT")}
    assert events["Response deadline: Bexley Age Well (LBB-GR-2024-017)"] == date(2027, 1, 15)
    assert events["Takes effect: Bexley Age Well (LBB-GR-2024-017)"] == date(2027, 3, 1)
    assert events["Takes effect: Crayford Community Larder (LBB-FSF-2025-004)"] == date(2027, 4, 3)
    assert len(events) == 4  # the agreement has no deadlines
    assert len({str(e["uid"]) for e in cal.walk("VEVENT")}) == 4
