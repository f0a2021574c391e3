"""Wording that several letter kinds share: letterheads, addresses, the dispute route, contacts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from compact_docs.dates import deemed_given, describe_period, long_date, to_london
from compact_docs.letters.blocks import Block, bullets, clean, facts, heading, para
from compact_docs.models import Funding, Organisation, Party, Person
from compact_docs.profile import Profile

INSTRUMENT_WORDS = {
    "grant": "grant",
    "contract": "contract",
    "service-level-agreement": "service level agreement",
    "other": "funding",
}

DELIVERY_WORDS = {
    "email": "by email",
    "hand": "by hand",
    "first-class-post": "by first-class post",
    "second-class-post": "by second-class post",
}


def the_compact(profile: Profile, capital: bool = False) -> str:
    """The Compact's name after 'the' is taken care of: 'the Bexley Compact' ('The ...' to open)."""
    return profile.named(capital)


def funding_name(funding: Funding) -> str:
    """'Community Connect grant'; 'Youth Activities Grant' when the name already ends with its
    instrument (never 'Youth Activities Grant grant')."""
    word = INSTRUMENT_WORDS[funding.instrument]
    name = clean(funding.programme)
    return name if name.lower().endswith(word.lower()) else f"{name} {word}"


def last_funded_day(effective: date) -> date:
    """The one rule for the last day of funding, in a notice and in a funding-end plan alike: the
    day before the end (or the change) takes effect."""
    return date.fromordinal(effective.toordinal() - 1)


UNTIL_LABELS = {
    "end": "Last day of funding",
    "reduce": "Paid at the current rate until",
    "vary": "The current terms apply until",
}
"""The label of the notice's row for the day before the change, by decision."""


def letterhead(party: Party) -> Block:
    """The sender's name over its address and main contact details."""
    lines = [", ".join(clean(a) for a in party.address if clean(a))]
    person = party.contact or party.signatory
    if person and person.email:
        lines.append(f"Email: {person.email}")
    if person and person.phone:
        lines.append(f"Telephone: {person.phone}")
    return Block("letterhead", text=clean(party.name), items=tuple(clean(x) for x in lines if x))


def address(party: Party, person: Person | None = None, lines_before: tuple[str, ...] = ()) -> Block:
    """The recipient's address block: person and role, body, postal address."""
    lines = list(lines_before)
    if person is not None:
        lines.append(person.name + (f", {person.role}" if person.role else ""))
    lines.append(party.name)
    lines += party.address
    return Block("address", items=tuple(clean(x) for x in lines if clean(x)))


def salutation(person: Person | None) -> tuple[Block, str]:
    """'Dear Jo Smith,' and the matching close ('Yours sincerely' or 'Yours faithfully')."""
    if person is None:
        return para("Dear Sir or Madam,"), "Yours faithfully,"
    return para(f"Dear {person.name},"), "Yours sincerely,"


def signature(closing: str, person: Person | None, body: str) -> Block:
    """The sign-off: closing words, then the signatory's name, role and body."""
    items = [person.name, person.role or ""] if person else []
    items.append(body)
    return Block("signature", text=closing, items=tuple(clean(i) for i in items if clean(i)))


def person_line(person: Person) -> str:
    """'Jo Smith, Chief Executive (jo.smith@agewell.example, 020 8000 0000)'."""
    ways = ", ".join(x for x in (person.email, person.phone) if x)
    return person.name + (f", {person.role}" if person.role else "") + (f" ({ways})" if ways else "")


def contact_and_formats(person: Person | None, party: Party, noun: str = "letter") -> list[Block]:
    """The named contact for the letter (or plan, or agreement) and the offer of other formats."""
    blocks = [heading("Contact and other formats")]
    if person is not None:
        blocks.append(para(f"If you have any questions about this {noun}, please contact "
                           f"{person_line(person)}."))
    who = person.name if person else party.name
    blocks.append(para(f"This {noun} is available in other formats, such as large print, easy "
                       f"read, audio or another language. Please ask {who} and we will send it "
                       "to you."))
    return blocks


def body_line(profile: Profile, body_id: str) -> str:
    """A body of the Compact with its contact, as one line ('' for an unknown id or no contact)."""
    body = profile.body(body_id)
    if body is None or not (body.contact or body.email):
        return ""
    name = body.name + (f" ({body.acronym})" if body.acronym else "")
    ways = ", ".join(x for x in (body.contact, body.email) if x)
    return name + (f": {ways}" if ways else "")


def dispute_route(profile: Profile, commissioner: Party, organisation: Organisation,
                  intro: str) -> list[Block]:
    """The Compact's dispute stages with who takes part at each and how to reach them."""
    items = []
    for stage in profile.dispute.stages:
        contacts = []
        for body_id in stage.bodies:
            line = body_line(profile, body_id)
            if not line and body_id == "commissioner":
                person = commissioner.contact or commissioner.signatory
                line = f"{commissioner.name}" + (f": {person_line(person)}" if person else "")
            if line:
                contacts.append(line)
        text = f"Stage {stage.number}, {stage.name}: {stage.summary}"
        if stage.entry == "commissioned" and not organisation.commissioned:
            text += (f" As {organisation.name} is not commissioned, it may go straight to "
                     f"stage {stage.number + 1}.")
        if contacts:
            text += " Contact: " + "; ".join(contacts) + "."
        items.append(text)
    cite = profile.cite(profile.dispute.clause)
    return [para(f"{intro} {the_compact(profile, capital=True)} sets out how disagreements are resolved "
                 f"({cite}):"), bullets(items)]


def quote(profile: Profile, clause_id: str, lead: str) -> Block:
    """A paragraph quoting a clause of the Compact with its citation."""
    return para(f"{lead} \u201c{profile.clause_text(clause_id)}\u201d "
                f"({profile.cite(clause_id)}).")


def deemed_reason(sent: datetime, delivery: str, given: date, profile: Profile) -> str:
    """Why notice counts as given on `given`, in the words of the profile's deemed-service rule."""
    rule = profile.deemed_service
    local = to_london(sent)
    if delivery in ("email", "hand"):
        if given == local.date():
            return f"sent on a working day before {rule.cutoff:%H:%M}, so it counts that day"
        return (f"sent after {rule.cutoff:%H:%M} or on a day that is not a working day, so it "
                "counts from the next working day")
    days = (rule.first_class_post_working_days if delivery == "first-class-post"
            else rule.second_class_post_working_days)
    return f"{delivery.replace('-', ' ')} counts as given on the {_ordinal(days)} working day after posting"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def notice_dates(
    profile: Profile,
    sent: datetime,
    delivery: str,
    effective: date,
    length: int,
    unit: Literal["months", "weeks", "days"],
    clause_id: str,
    dates: dict[str, date],
    until_label: str = "",
) -> Block:
    """The key dates of a notice: sent, counts as given, minimum notice, earliest and actual date,
    and (with `until_label`) the last day before the change, by the one rule of `last_funded_day`."""
    local = to_london(sent)
    given = dates.get("notice_given") or deemed_given(
        sent, delivery, profile.deemed_service, profile.jurisdiction)  # type: ignore[arg-type]
    rows = [
        ("Notice sent", f"{DELIVERY_WORDS.get(delivery, delivery)} on {long_date(local.date())} "
                        f"at {local:%H:%M}"),
        ("Notice counts as given", f"{long_date(given)} "
                                   f"({deemed_reason(sent, delivery, given, profile)})"),
        ("Minimum notice", f"{describe_period(length, unit)} ({profile.cite(clause_id)})"),
    ]
    earliest = dates.get("earliest_effective")
    if earliest is not None:
        rows.append(("Earliest date the change can take effect", long_date(earliest)))
    rows.append(("Date the change takes effect", long_date(effective)))
    if until_label:
        rows.append((until_label, long_date(last_funded_day(effective))))
    return facts(rows)
