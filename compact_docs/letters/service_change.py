"""The wording of a voluntary organisation's notice to its funder of a change to its service."""

from __future__ import annotations

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
from compact_docs.rules.checks import Report
from compact_docs.rules.dates import describe_period, long_date
from compact_docs.rules.profile import Profile


def service_change_context(letter: ServiceChangeLetter, report: Report,
                           profile: Profile) -> LetterContext:
    """The blocks of a VCO's service-change notice."""
    org, funder = letter.organisation, letter.funder
    recipient = funder.contact or funder.signatory
    title = f"Notice of a change to our service: {funding_name(letter.funding)}, {org.name}"
    greeting, closing = salutation(recipient)
    blocks = [
        *_opening(letter, profile, title, greeting),
        *_the_change(letter),
        heading("Why we are making the change"),
        para(letter.change.reason),
        *_notice_period(letter, report, profile),
        *_our_plan(letter),
        *_telling_service_users(letter),
        *_your_response(letter),
        *contact_and_formats(org.contact or org.signatory, org),
        signature(closing, org.signatory or org.contact, org.name),
    ]
    reference = letter.funding.reference
    return LetterContext(
        kind="service-change", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=org.name, reference=reference, organisation=org.name,
        footer=f"{org.name} · {profile.short_name} service-change notice · {reference}",
        running_header=f"{funder.name} · {reference}",
        letter_date=letter.date or letter.notice.sent.date(), subject=title, dates=dict(report.dates),
    )


def _opening(letter: ServiceChangeLetter, profile: Profile, title: str, greeting: Block) -> list[Block]:
    """Letterhead, address, references, greeting, subject, and the notice the Compact asks for."""
    org, funder, timing = letter.organisation, letter.funder, letter.notice
    rule = profile.service_notice
    contact = org.contact or org.signatory
    return [
        letterhead(org),
        address(funder, funder.contact or funder.signatory),
        references([
            ("Date", short_date(letter.date or timing.sent.date())),
            ("Your reference", letter.funding.reference),
            ("Contact", contact.name if contact else ""),
        ]),
        greeting,
        heading(title, 1),
        para(f"We are writing to give you notice of a change to the service we deliver with your "
             f"{funding_name(letter.funding)} (reference {letter.funding.reference}). "
             f"{the_compact(profile, capital=True)} asks voluntary and community organisations to give at least "
             f"{describe_period(rule.length, rule.unit)}' notice of any change to service provision, "
             f"with a clear plan for meeting the funding objectives ({profile.cite(rule.clause)}). "
             f"The change takes effect on {long_date(timing.effective)}."),
    ]


def _the_change(letter: ServiceChangeLetter) -> list[Block]:
    """What changes, the services affected and how many people use them."""
    change = letter.change
    blocks = [heading("The change"), para(change.summary), *(para(p) for p in paragraphs_of(change.details))]
    if change.services_affected:
        blocks += [para("The services affected are:"), bullets(change.services_affected)]
    if change.beneficiaries_affected is not None:
        blocks.append(para(f"About {change.beneficiaries_affected} people use the services affected."))
    return blocks


def _notice_period(letter: ServiceChangeLetter, report: Report, profile: Profile) -> list[Block]:
    """How the notice is sent, the key dates, and any exceptional circumstances."""
    rule, timing = profile.service_notice, letter.notice
    blocks = [
        heading("Notice period and key dates"),
        para(f"This notice is sent {DELIVERY_WORDS[timing.delivery]}; the table shows the date notice "
             "counts from and the dates that follow from it."),
        notice_dates(profile, timing.sent, timing.delivery, timing.effective, rule.length, rule.unit,
                     rule.clause, report.dates),
    ]
    reason = timing.exceptional_circumstances
    if isinstance(reason, str) and reason.strip():
        blocks.append(para(f"We are giving less than {describe_period(rule.length, rule.unit)}' notice "
                           f"because of exceptional circumstances: {reason}"))
    return blocks


def _our_plan(letter: ServiceChangeLetter) -> list[Block]:
    """The plan for meeting the funding objectives through the change."""
    plan = letter.plan
    blocks = [heading("Our plan for meeting the funding objectives")]
    if plan is not None:
        blocks += [para(p) for p in paragraphs_of(plan.summary)]
        if plan.actions:
            blocks += [para("We will:"), bullets(plan.actions)]
    return blocks


def _telling_service_users(letter: ServiceChangeLetter) -> list[Block]:
    """When and how the people who use the service are told."""
    told = letter.beneficiary_notice
    if told is None:
        return [heading("Telling the people who use our service"),
                para("We will tell the people who use the service as early as we can.")]
    return [heading("Telling the people who use our service"),
            para(f"We will tell the people who use the service on {long_date(told.date)}: {told.method}.")]


def _your_response(letter: ServiceChangeLetter) -> list[Block]:
    """How and by when the funder may give its views."""
    response = letter.response
    if response is None or not (response.channel or response.deadline):
        return [heading("Your response"),
                para("We would welcome your views on the change and on our plan before it takes effect.")]
    how = f" to {response.channel}" if response.channel else ""
    when = f" by {long_date(response.deadline)}" if response.deadline else ""
    return [heading("Your response"),
            para(f"We would welcome your views on the change and on our plan. Please reply{how}{when}, "
                 "so that we can take them into account before the change takes effect.")]
