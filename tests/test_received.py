"""A message's date for a case: the Date header, or INTERNALDATE when the header is missing or absurd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mailflows.received import header_date, received_at

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ARRIVED = datetime(2026, 11, 17, 9, 15, tzinfo=UTC)


def test_a_plausible_date_header_wins() -> None:
    assert received_at("Tue, 17 Nov 2026 09:14:03 +0000", ARRIVED, NOW) == datetime(2026, 11, 17, 9, 14, 3,
                                                                                       tzinfo=UTC)
    assert received_at("Tue, 17 Nov 2026 09:14:03 +0100", None, NOW) == datetime(2026, 11, 17, 8, 14, 3, tzinfo=UTC)


def test_a_missing_unreadable_or_absurd_date_gives_internaldate() -> None:
    for header in (None, "", "yesterday", "Thu, 01 Jan 1970 00:00:00 +0000", "Fri, 17 Nov 2034 09:00:00 +0000",
                   "Mon, 17 Aug 2026 09:00:00 +0000"):  # 1970, the future, three months before arrival
        assert received_at(header, ARRIVED, NOW) == ARRIVED, header


def test_without_internaldate_an_absurd_date_gives_now() -> None:
    assert received_at("Fri, 17 Nov 2034 09:00:00 +0000", None, NOW) == NOW
    assert received_at(None, None, NOW) == NOW
    # A backlog from an mbox keeps its age: no arrival known, an old Date is believed.
    assert received_at("Mon, 17 Aug 2026 09:00:00 +0000", None, NOW) == datetime(2026, 8, 17, 9, tzinfo=UTC)


def test_a_naive_internaldate_is_read_as_utc() -> None:
    assert received_at(None, datetime(2026, 11, 17, 9, 15), NOW) == ARRIVED


@given(st.text(max_size=60))
def test_any_header_text_gives_a_moment_or_none(text: str) -> None:
    found = header_date(text)
    assert found is None or found.tzinfo is not None
    moment = received_at(text, ARRIVED, NOW)
    assert ARRIVED - timedelta(days=30) <= moment <= ARRIVED + timedelta(days=1)
