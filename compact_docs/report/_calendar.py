"""Calendar arithmetic for the report: months of a period, London dates of stamps, working days between."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from compact_docs.dates import LONDON, is_working_day
from compact_docs.profile import Jurisdiction

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every (year, month) from start's month to end's month, in order."""
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return [(i // 12, i % 12 + 1) for i in range(first, last + 1)]


def month_label(year: int, month: int) -> str:
    """'Dec 2025'."""
    return f"{_MONTHS[month - 1]} {year}"


def london_date(stamp: str) -> date:
    """The Europe/London date of a register stamp (ISO 8601; a naive one is read as UTC)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        return moment.date()  # a plain date, or a naive stamp the register never writes
    return moment.astimezone(LONDON).date()


def working_days_between(start: date, end: date, jurisdiction: Jurisdiction = "england-and-wales") -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start).

    A case opened on a Friday and looked at on Monday has waited one working day.
    """
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, jurisdiction):
            count += 1
    return count


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return float(statistics.median(values)) if values else None


def percentile_90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank (a value that occurred), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)])
