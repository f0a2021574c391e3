"""When a message came: its Date header, or the server's INTERNALDATE when the header is missing or absurd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
"""A Date before this is a broken clock (1970, 1980 from a dead battery), not a real backlog."""
AHEAD = timedelta(days=1)
"""A Date more than this after the message reached the server is a clock set wrong."""
IN_TRANSIT = timedelta(days=30)
"""A Date more than this before the message reached the server is a clock set wrong, not a slow mailer."""


def header_date(value: str | None) -> datetime | None:
    """The moment a Date header (RFC 5322 section 3.3) names, in UTC; None when it names none."""
    if not value or not value.strip():
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def received_at(date_header: str | None, arrived: datetime | None, now: datetime) -> datetime:
    """When a message came, for a case's dates.

    The Date header, when it is plausible; otherwise ``arrived`` (the server's INTERNALDATE,
    when the message was read over IMAP), otherwise ``now``. A Date is absurd when it is before
    1990, more than a day after the message arrived (or after ``now``), or, when the arrival is
    known, more than 30 days before it.
    """
    arrival = (arrived if arrived.tzinfo else arrived.replace(tzinfo=UTC)).astimezone(UTC) if arrived else None
    fallback = arrival or now.astimezone(UTC)
    written = header_date(date_header)
    if written is None or written < EARLIEST:
        return fallback
    if written > min(fallback, now.astimezone(UTC)) + AHEAD:
        return fallback
    if arrival is not None and written < arrival - IN_TRANSIT:
        return fallback
    return written


def stamp(moment: datetime) -> str:
    """A moment as the case register stamps it (UTC, ISO 8601, whole seconds)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
