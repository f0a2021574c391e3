"""Tests for compact_docs.rules.dates: calendar months, deemed service, working days."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compact_docs.rules.dates import (
    add_months,
    add_working_days,
    bank_holidays,
    deemed_given,
    earliest_effective_date,
    is_working_day,
    local_time,
    long_date,
    to_london,
)
from compact_docs.rules.profile import DeemedServiceRule, load_profile

RULE = load_profile("bexley").deemed_service


# Every worked example in domain.md.
@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        (date(2025, 12, 1), 3, date(2026, 3, 1)),
        (date(2025, 12, 29), 3, date(2026, 3, 29)),
    ],
)
def test_calendar_month_examples(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_email_on_sunday_is_given_monday_and_ends_1_march() -> None:
    given_on = deemed_given(datetime(2025, 11, 30, 10, 0), "email", RULE)
    assert given_on == date(2025, 12, 1)
    assert earliest_effective_date(given_on, 3) == date(2026, 3, 1)


def test_first_class_post_over_christmas() -> None:
    given_on = deemed_given(datetime(2025, 12, 23, 15, 0), "first-class-post", RULE)
    assert given_on == date(2025, 12, 29)
    assert earliest_effective_date(given_on, 3) == date(2026, 3, 29)


def test_email_after_cut_off_counts_next_working_day() -> None:
    assert deemed_given(datetime(2026, 11, 30, 17, 0), "email", RULE) == date(2026, 12, 1)
    assert deemed_given(datetime(2026, 11, 30, 16, 59), "email", RULE) == date(2026, 11, 30)


def test_friday_evening_email_counts_monday() -> None:
    assert deemed_given(datetime(2026, 11, 27, 18, 30), "hand", RULE) == date(2026, 11, 30)


def test_second_class_post_is_fourth_working_day() -> None:
    # Posted Thursday 26 Nov 2026: Fri 27, Mon 30, Tue 1, Wed 2 Dec.
    assert deemed_given(datetime(2026, 11, 26, 9, 0), "second-class-post", RULE) == date(2026, 12, 2)


def test_easter_bank_holidays_are_skipped() -> None:
    # Good Friday 3 April 2026 and Easter Monday 6 April 2026 (England and Wales).
    assert deemed_given(datetime(2026, 4, 2, 18, 0), "email", RULE) == date(2026, 4, 7)


def test_jurisdictions_differ() -> None:
    # 2 January is a bank holiday in Scotland only; St Patrick's Day in Northern Ireland only.
    assert not is_working_day(date(2026, 1, 2), "scotland")
    assert is_working_day(date(2026, 1, 2), "england-and-wales")
    assert date(2026, 3, 17) in bank_holidays("northern-ireland", 2026)
    assert date(2026, 3, 17) not in bank_holidays("england-and-wales", 2026)


def test_aware_times_are_converted_to_london() -> None:
    # 16:30 UTC in summer is 17:30 in London: after the cut-off.
    from zoneinfo import ZoneInfo

    sent = datetime(2026, 6, 1, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert to_london(sent).hour == 17
    assert deemed_given(sent, "email", RULE) == date(2026, 6, 2)


def test_the_cut_off_is_in_the_compacts_own_time_zone() -> None:
    # 16:30 in London on a summer Monday is 11:30 in New York: before a 17:00 cut-off there.
    from zoneinfo import ZoneInfo

    sent = datetime(2026, 6, 1, 16, 30, tzinfo=ZoneInfo("Europe/London"))
    assert local_time(sent, "America/New_York").hour == 11
    assert deemed_given(sent, "email", RULE, timezone="America/New_York") == date(2026, 6, 1)
    assert deemed_given(sent.replace(hour=22), "email", RULE, timezone="America/New_York") == date(2026, 6, 2)


def test_custom_cut_off_and_post_days() -> None:
    rule = DeemedServiceRule(cutoff=time(16, 0), first_class_post_working_days=1)
    assert deemed_given(datetime(2026, 11, 30, 16, 30), "email", rule) == date(2026, 12, 1)
    assert deemed_given(datetime(2026, 11, 30, 9, 0), "first-class-post", rule) == date(2026, 12, 1)


def test_no_weekend_roll_unless_profile_says_so() -> None:
    # 28 Nov 2026 + 3 months = Sunday 28 Feb 2027.
    assert earliest_effective_date(date(2026, 11, 28), 3) == date(2027, 2, 28)
    rolled = earliest_effective_date(date(2026, 11, 28), 3, roll_off_weekend=True)
    assert rolled == date(2027, 3, 1)


def test_weeks_and_days_units() -> None:
    assert earliest_effective_date(date(2026, 1, 1), 12, "weeks") == date(2026, 3, 26)
    assert earliest_effective_date(date(2026, 1, 1), 84, "days") == date(2026, 3, 26)


def test_long_date() -> None:
    assert long_date(date(2027, 3, 1)) == "Monday 1 March 2027"


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(dates, st.integers(min_value=0, max_value=600))
def test_result_never_before_start(start: date, months: int) -> None:
    assert add_months(start, months) >= start


@given(dates, dates, st.integers(min_value=0, max_value=120))
def test_adding_months_is_monotonic(a: date, b: date, months: int) -> None:
    lo, hi = sorted((a, b))
    assert add_months(lo, months) <= add_months(hi, months)


@given(dates, st.integers(min_value=-600, max_value=600))
def test_clamping_only_at_month_ends(start: date, months: int) -> None:
    end = add_months(start, months)
    if end.day != start.day:
        assert start.day > end.day
        assert end.day == calendar.monthrange(end.year, end.month)[1]
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months


@given(dates, st.integers(min_value=1, max_value=36))
def test_a_month_is_between_28_and_31_days(start: date, months: int) -> None:
    span = (add_months(start, months) - start).days
    assert 28 * months - 3 <= span <= 31 * months


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["email", "hand", "first-class-post", "second-class-post"]))
def test_deemed_date_is_a_working_day_on_or_after_sending(sent: datetime, method: str) -> None:
    given_on = deemed_given(sent, method, RULE)  # type: ignore[arg-type]
    assert given_on >= sent.date()
    assert is_working_day(given_on)
    assert given_on - sent.date() <= timedelta(days=12)


@given(dates, st.integers(min_value=0, max_value=10))
def test_working_days_are_working_days(start: date, count: int) -> None:
    result = add_working_days(start, count)
    assert result >= start
    if count:
        assert is_working_day(result)
