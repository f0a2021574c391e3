"""The wording of a voluntary organisation's notice to its funder of a change to its service."""

from __future__ import annotations

from compact_docs.checks import Report
from compact_docs.dates import describe_period, long_date
from compact_docs.letters.blocks import (
    Block,
    LetterContext,
    bullets,
    heading,
    para,
    paragraphs_of,
    references,
    short_date,
)
from compact_docs.letters.common import (
    DELIVERY_WORDS,
    address,
    contact_and_formats,
    funding_name,
    letterhead,
    notice_dates,
    salutation,
    signature,
    the_compact,
)
from compact_docs.models import ServiceChangeLetter
from compact_docs.profile import Profile


def service_change_context(letter: ServiceChangeLetter, report: Report,
                           profile: Profile) -> LetterContext:
    """The blocks of a VCO's service-change notice."""
    org, funder, change, timing = letter.organisation, letter.funder, letter.change, letter.notice
    rule = profile.service_notice
    period = describe_period(rule.length, rule.unit)
    what = funding_name(letter.funding)
    letter_date = letter.date or timing.sent.date()
    contact = org.contact or org.signatory
    recipient = funder.contact or funder.signatory
    title = f"Notice of a change to our service: {what}, {org.name}"
    greeting, closing = salutation(recipient)

    blocks: list[Block] = [
        letterhead(org),
        address(funder, recipient),
        references([
            ("Date", short_date(letter_date)),
            ("Your reference", letter.funding.reference),
            ("Contact", contact.name if contact else ""),
        ]),
        greeting,
        heading(title, 1),
        para(f"We are writing to give you notice of a change to the service we deliver with your "
             f"{what} (reference {letter.funding.reference}). {the_compact(profile, capital=True)} asks voluntary "
             f"and community organisations to give at least {period}' notice of any change to "
             f"service provision, with a clear plan for meeting the funding objectives "
             f"({profile.cite(rule.clause)}). The change takes effect on "
             f"{long_date(timing.effective)}."),
        heading("The change"),
        para(change.summary),
    ]
    blocks += [para(p) for p in paragraphs_of(change.details)]
    if change.services_affected:
        blocks.append(para("The services affected are:"))
        blocks.append(bullets(change.services_affected))
    if change.beneficiaries_affected is not None:
        blocks.append(para(f"About {change.beneficiaries_affected} people use the services "
                           "affected."))

    blocks.append(heading("Why we are making the change"))
    blocks.append(para(change.reason))

    blocks.append(heading("Notice period and key dates"))
    blocks.append(para(f"This notice is sent {DELIVERY_WORDS[timing.delivery]}; the table shows "
                       "the date notice counts from and the dates that follow from it."))
    blocks.append(notice_dates(profile, timing.sent, timing.delivery, timing.effective,
                               rule.length, rule.unit, rule.clause, report.dates,
                               ))
    reason = timing.exceptional_circumstances
    if isinstance(reason, str) and reason.strip():
        blocks.append(para(f"We are giving less than {period}' notice because of exceptional "
                           f"circumstances: {reason}"))

    blocks.append(heading("Our plan for meeting the funding objectives"))
    plan = letter.plan
    if plan is not None:
        blocks += [para(p) for p in paragraphs_of(plan.summary)]
        if plan.actions:
            blocks.append(para("We will:"))
            blocks.append(bullets(plan.actions))

    blocks.append(heading("Telling the people who use our service"))
    if letter.beneficiary_notice is not None:
        told = letter.beneficiary_notice
        blocks.append(para(f"We will tell the people who use the service on "
                           f"{long_date(told.date)}: {told.method}."))
    else:
        blocks.append(para("We will tell the people who use the service as early as we can."))

    blocks.append(heading("Your response"))
    response = letter.response
    if response is not None and (response.channel or response.deadline):
        how = f" to {response.channel}" if response.channel else ""
        when = f" by {long_date(response.deadline)}" if response.deadline else ""
        blocks.append(para(f"We would welcome your views on the change and on our plan. Please "
                           f"reply{how}{when}, so that we can take them into account before the "
                           "change takes effect."))
    else:
        blocks.append(para("We would welcome your views on the change and on our plan before it "
                           "takes effect."))

    blocks += contact_and_formats(contact, org)
    blocks.append(signature(closing, org.signatory or org.contact, org.name))

    return LetterContext(
        kind="service-change", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=org.name, reference=letter.funding.reference,
        organisation=org.name,
        footer=f"{org.name} · {profile.short_name} service-change notice · "
               f"{letter.funding.reference}",
        running_header=f"{funder.name} · {letter.funding.reference}",
        letter_date=letter_date, subject=title, dates=dict(report.dates),
    )
