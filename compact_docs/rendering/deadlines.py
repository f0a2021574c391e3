"""A calendar (.ics) of each letter's response deadline and effective date, for commissioners."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from compact_docs.models import Letter, NoticeLetter, ServiceChangeLetter
from compact_docs.rendering.output import write_atomic


@dataclass(frozen=True)
class Deadline:
    """One dated thing a commissioner must track."""

    day: date
    summary: str
    description: str
    uid: str


def letter_deadlines(letter: Letter) -> list[Deadline]:
    """The response deadline and the effective date of a notice or a service-change letter."""
    if not isinstance(letter, (NoticeLetter, ServiceChangeLetter)):
        return []
    org = letter.organisation.name
    ref = letter.funding.reference
    key = hashlib.sha256(f"{letter.kind}|{ref}|{org}".encode()).hexdigest()[:16]
    found: list[Deadline] = []
    response = letter.response
    if response is not None and response.deadline is not None:
        channel = f" to {response.channel}" if response.channel else ""
        found.append(Deadline(
            day=response.deadline,
            summary=f"Response deadline: {org} ({ref})",
            description=f"Last day for {org} to respond{channel} about {letter.funding.programme} ({ref}).",
            uid=f"{key}-response@compact-docs",
        ))
    if isinstance(letter, NoticeLetter):
        what = f"{letter.decision.summary}"
    else:
        what = f"{org}'s service change: {letter.change.summary}"
    found.append(Deadline(
        day=letter.notice.effective,
        summary=f"Takes effect: {org} ({ref})",
        description=what,
        uid=f"{key}-effective@compact-docs",
    ))
    return found


def deadline_record(deadline: Deadline) -> dict[str, str]:
    """A deadline as the manifest and the batch report keep it (JSON)."""
    return {"date": deadline.day.isoformat(), "summary": deadline.summary,
            "description": deadline.description, "uid": deadline.uid}


def write_calendar(deadlines: Iterable[Deadline], path: str | Path, name: str = "Compact deadlines") -> Path:
    """Write all-day events for the deadlines to an .ics file and return its path."""
    cal = Calendar()
    cal.add("prodid", "-//compact-docs//Compact deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = datetime.now(UTC)
    for item in deadlines:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    path = Path(path)
    write_atomic(path, cal.to_ical())  # replaces a file or link of that name, never writes through it
    return path
