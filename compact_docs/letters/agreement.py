"""The wording of a signatory agreement: the commitments and undertakings quoted from the profile."""

from __future__ import annotations

from datetime import date

from compact_docs.letters.blocks import Block, LetterContext, bullets, facts, heading, para, short_date
from compact_docs.letters.common import body_line, contact_and_formats, letterhead, the_compact
from compact_docs.models import AgreementLetter, Person
from compact_docs.rules.checks import Report
from compact_docs.rules.profile import Profile, Sector

_SIGNED = {
    "statutory": "the undertakings for the statutory sector",
    "vcs": "the undertakings for voluntary and community organisations",
    "shared": "the shared undertakings",
}

_HEADINGS = {
    "statutory": "Undertakings for the statutory sector",
    "vcs": "Undertakings for voluntary and community organisations",
    "shared": "Shared undertakings",
}

SIGNATURE_LINE = "_" * 36
"""Where a signatory signs; the same characters in the DOCX and the PDF."""


def _signature_rows(person: Person, body: str, signed_on: date | None) -> list[tuple[str, str]]:
    return [
        ("Signature", SIGNATURE_LINE),
        ("Name", person.name),
        ("Role", person.role or SIGNATURE_LINE),
        ("For", body),
        ("Date", short_date(signed_on) if signed_on else SIGNATURE_LINE),
    ]


def agreement_context(letter: AgreementLetter, report: Report, profile: Profile) -> LetterContext:
    """The blocks of a signatory agreement to the Compact."""
    body = letter.body
    signed = letter.undertakings or [body.sector, "shared"]
    made_on = letter.date or letter.signed_on or date.today()
    title = f"{profile.name}: signatory agreement for {body.name}"
    blocks = [
        *_opening(letter, profile, title, signed),
        *_commitments(letter, profile, signed),
        *_signatures(letter, profile),
        *_about_the_compact(profile),
        *contact_and_formats(letter.signatory, body, noun="agreement"),
    ]
    return LetterContext(
        kind="agreement", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=body.name, reference="",
        organisation=body.name, footer=f"{profile.name} · signatory agreement · {body.name}",
        running_header=f"{body.name} · signatory agreement", letter_date=made_on,
        layout="document", subject=title, dates=dict(report.dates),
    )


def _opening(letter: AgreementLetter, profile: Profile, title: str, signed: list[Sector]) -> list[Block]:
    """Letterhead, title, the body that signs, what the Compact is, and what the body signs up to."""
    body, signatory = letter.body, letter.signatory
    return [
        letterhead(body),
        heading(title, 1),
        facts([
            ("Organisation", body.name),
            ("Address", ", ".join(body.address)),
            ("Sector", "Statutory sector" if body.sector == "statutory" else "Voluntary and community sector"),
            ("Registered charity number", body.charity_number or ""),
            ("Signed by", f"{signatory.name}" + (f", {signatory.role}" if signatory.role else "")),
        ]),
        para(f"{the_compact(profile, capital=True)} is the agreement between the statutory sector and the voluntary "
             f"and community sector in {profile.area}. It sets out shared commitments, and "
             "undertakings that each sector makes to put them into practice."),
        para(f"{body.name} signs up to the commitments below and agrees to work to "
             + " and ".join(_SIGNED[part] for part in signed) + ", as quoted from the Compact."),
    ]


def _commitments(letter: AgreementLetter, profile: Profile, signed: list[Sector]) -> list[Block]:
    """Each commitment signed, with the undertakings of each part signed, quoted from the profile."""
    blocks: list[Block] = []
    for number in letter.commitments or [c.number for c in profile.commitments]:
        commitment = profile.commitment(number)
        if commitment is None:
            continue
        blocks.append(heading(f"Commitment {commitment.number}: {commitment.title}"))
        for part in signed:
            undertakings = commitment.undertakings(part)
            if undertakings:
                blocks += [heading(_HEADINGS[part], 3), bullets(undertakings)]
    return blocks


def _signatures(letter: AgreementLetter, profile: Profile) -> list[Block]:
    """Where the body's signatory signs, and the countersignatory if there is one."""
    body = letter.body
    blocks = [heading("Signatures"), heading(f"Signed for and on behalf of {body.name}", 3),
              facts(_signature_rows(letter.signatory, body.name, letter.signed_on))]
    if letter.countersignatory is not None:
        on_behalf = letter.countersigning_body or profile.name
        blocks += [heading(f"Countersigned for {on_behalf}", 3),
                   facts(_signature_rows(letter.countersignatory, on_behalf, letter.signed_on))]
    return blocks


def _about_the_compact(profile: Profile) -> list[Block]:
    """The Compact's bodies that can be written to, with the profile's note about them."""
    contacts = [line for line in (body_line(profile, b.id) for b in profile.bodies if b.email) if line]
    if not contacts:
        return []
    note = [para(profile.contact_note)] if profile.contact_note else []
    return [heading("About the Compact"), *note, bullets(contacts)]
