"""How long a case may stay at a stage: working days from BVSC's own service standard, and who is overdue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from compact_docs.dates import add_working_days, is_working_day
from compact_docs.profile import Jurisdiction, Profile
from compact_docs.register import Case

DEFAULT_DEADLINES: Mapping[int, int] = {1: 10, 2: 20}
"""Working days a case may stay at a stage ([cases.deadlines]); a stage not named has no deadline."""


@dataclass(frozen=True)
class CaseDeadlines:
    """Working-day deadlines per stage, counted in a jurisdiction's working days and time zone.

    A case's time at a stage starts on the day it reached it (for the stage it opened at, the
    day its first message came); the deadline is that many working days later (weekends and
    the jurisdiction's bank holidays not counted), and the case is overdue the day after.
    """

    days: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    jurisdiction: Jurisdiction = "england-and-wales"
    timezone: str = "Europe/London"

    @classmethod
    def for_profile(cls, profile: Profile, days: Mapping[int, int] | None = None) -> CaseDeadlines:
        """The deadlines of a configuration, in the profile's jurisdiction and time zone."""
        return cls(dict(DEFAULT_DEADLINES if days is None else days), profile.jurisdiction, profile.timezone)

    def local_day(self, stamp: str) -> date:
        """The local date of a register time stamp."""
        moment = datetime.fromisoformat(stamp)
        return moment.astimezone(ZoneInfo(self.timezone)).date() if moment.tzinfo else moment.date()

    def today(self, now: datetime | None = None) -> date:
        """Today's local date."""
        return (now or datetime.now(ZoneInfo(self.timezone))).astimezone(ZoneInfo(self.timezone)).date()

    def due(self, case: Case) -> date | None:
        """The last working day the case may stay at its stage; None when closed or without a deadline."""
        limit = self.days.get(case.stage)
        if case.status != "open" or limit is None:
            return None
        since = case.stage_since or case.received or case.opened
        return add_working_days(self.local_day(since), limit, self.jurisdiction)

    def working_days_over(self, case: Case, today: date) -> int:
        """How many working days past its deadline a case is on ``today`` (0 when not overdue)."""
        due = self.due(case)
        if due is None or today <= due:
            return 0
        count, day = 0, due
        while day < today:
            day = date.fromordinal(day.toordinal() + 1)
            count += is_working_day(day, self.jurisdiction)
        return max(count, 1)

    def is_overdue(self, case: Case, today: date) -> bool:
        """Whether the case is still at its stage after its deadline."""
        due = self.due(case)
        return due is not None and today > due

    def overdue(self, cases: Iterable[Case], today: date) -> list[Case]:
        """The open cases past their stage's deadline, the longest overdue first."""
        late = [c for c in cases if self.is_overdue(c, today)]
        return sorted(late, key=lambda c: (self.due(c) or today, c.ref))

    def to_dict(self, case: Case, today: date) -> dict[str, Any]:
        """The case's `cases list --json` object with ``due`` and ``overdue``."""
        due = self.due(case)
        return {**case.to_dict(), "due": due.isoformat() if due else None,
                "overdue": self.is_overdue(case, today)}


def overdue_line(deadlines: CaseDeadlines, cases: Iterable[Case], today: date) -> str:
    """One summary line: 'overdue cases: 2 (BXC-2026-0003 stage 2, 4 working days over; ...)'."""
    late = deadlines.overdue(cases, today)
    if not late:
        return f"overdue cases on {today.isoformat()}: none"
    shown = "; ".join(f"{c.ref} stage {c.stage}, {deadlines.working_days_over(c, today)} working day(s) over"
                      for c in late[:20])
    more = f"; and {len(late) - 20} more" if len(late) > 20 else ""
    return f"overdue cases on {today.isoformat()}: {len(late)} ({shown}{more})"
