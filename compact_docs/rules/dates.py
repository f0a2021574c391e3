"""Notice-date rules: calendar months (Dodds v Walker), deemed service and working days, offline."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from compact_docs.rules.profile import DeemedServiceRule, Jurisdiction, Unit

Delivery = Literal["email", "hand", "first-class-post", "second-class-post"]

_SUBDIVISION: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


def add_months(start: date, months: int) -> date:
    """Add calendar months: the same date number in the target month, or its last day if shorter.

    30 Nov 2025 + 3 months = 28 Feb 2026; 31 Aug + 3 months = 30 Nov.
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def add_period(start: date, length: int, unit: Unit) -> date:
    """Add a notice period in the profile's unit to a date."""
    if unit == "months":
        return add_months(start, length)
    if unit == "weeks":
        return start + timedelta(weeks=length)
    return start + timedelta(days=length)


@lru_cache(maxsize=64)
def _bank_holidays(jurisdiction: str, year: int) -> frozenset[date]:
    import holidays  # its tables load only when a working day is first needed

    subdivision = _SUBDIVISION[jurisdiction]
    table = holidays.country_holidays("GB", subdiv=subdivision, years=year)
    return frozenset(table.keys())


def bank_holidays(jurisdiction: Jurisdiction, year: int) -> frozenset[date]:
    """The bank holidays of a UK jurisdiction in a year, computed offline."""
    return _bank_holidays(jurisdiction, year)


def is_working_day(day: date, jurisdiction: Jurisdiction = "england-and-wales") -> bool:
    """A weekday that is not a bank holiday in the jurisdiction."""
    return day.weekday() < 5 and day not in _bank_holidays(jurisdiction, day.year)


def next_working_day(day: date, jurisdiction: Jurisdiction = "england-and-wales") -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day, jurisdiction):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int, jurisdiction: Jurisdiction = "england-and-wales") -> date:
    """The `count`-th working day after `day` (count 0 returns `day` itself)."""
    for _ in range(count):
        day = next_working_day(day, jurisdiction)
    return day


LONDON = ZoneInfo("Europe/London")
"""The time zone of England and Wales (a profile names its own: Profile.timezone)."""


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(moment: datetime, timezone: str = "Europe/London") -> datetime:
    """A moment in the Compact's time zone (its profile's `timezone`): a naive datetime is read as
    local time there; an aware one is converted to it."""
    zone = _zone(timezone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def to_london(moment: datetime) -> datetime:
    """A moment in Europe/London time (see `local_time`)."""
    return local_time(moment, "Europe/London")


def deemed_given(
    sent: datetime,
    delivery: Delivery,
    rule: DeemedServiceRule,
    jurisdiction: Jurisdiction = "england-and-wales",
    timezone: str = "Europe/London",
) -> date:
    """The date a notice is deemed given.

    Email or hand delivery on a working day before the cut-off (local time in `timezone`) counts
    that day, otherwise the next working day (plus any extra working days the profile sets). Post
    counts on the n-th working day after posting (two for first class, four for second class by
    default).
    """
    local = local_time(sent, timezone)
    day = local.date()
    if delivery in ("email", "hand"):
        extra = rule.email_working_days if delivery == "email" else rule.hand_working_days
        if not is_working_day(day, jurisdiction) or local.time() >= rule.cutoff:
            day = next_working_day(day, jurisdiction)
        return add_working_days(day, extra, jurisdiction)
    if delivery == "first-class-post":
        return add_working_days(day, rule.first_class_post_working_days, jurisdiction)
    return add_working_days(day, rule.second_class_post_working_days, jurisdiction)


def earliest_effective_date(
    notice_given: date,
    length: int,
    unit: Unit = "months",
    *,
    roll_off_weekend: bool = False,
    jurisdiction: Jurisdiction = "england-and-wales",
) -> date:
    """The earliest date a change may take effect: the date notice is given plus the notice period.

    A change effective on or after this date is compliant. The date is moved to the next working
    day only when the profile says so.
    """
    end = add_period(notice_given, length, unit)
    if roll_off_weekend and not is_working_day(end, jurisdiction):
        end = next_working_day(end, jurisdiction)
    return end


def describe_period(length: int, unit: Unit) -> str:
    """'3 months', '1 month', '12 weeks'."""
    word = unit[:-1] if length == 1 else unit
    return f"{length} {word}"


def long_date(day: date) -> str:
    """A date as written in a British letter: 'Monday 1 March 2027'."""
    return f"{day:%A} {day.day} {day:%B %Y}"
