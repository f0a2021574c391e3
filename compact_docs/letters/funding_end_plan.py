"""The wording of a voluntary organisation's plan for the end of a funding relationship."""

from __future__ import annotations

from datetime import date

from compact_docs.checks import Report
from compact_docs.dates import long_date
from compact_docs.letters.blocks import (
    Block,
    LetterContext,
    bullets,
    facts,
    heading,
    money,
    para,
    paragraphs_of,
    short_date,
    table,
)
from compact_docs.letters.common import (
    contact_and_formats,
    funding_name,
    last_funded_day,
    letterhead,
    person_line,
    quote,
    the_compact,
)
from compact_docs.models import FundingEndPlan
from compact_docs.profile import Profile


def funding_end_plan_context(letter: FundingEndPlan, report: Report,
                             profile: Profile) -> LetterContext:
    """The blocks of a funding-end plan, a structured document rather than a letter."""
    org, funder, funding = letter.organisation, letter.funder, letter.funding
    what = funding_name(funding)
    last_day = last_funded_day(letter.funding_end)
    made_on = letter.date or date.today()
    contact = org.contact or org.signatory
    title = f"Funding-end plan: {what}, {org.name}"
    latest = report.dates.get("beneficiary_notice_latest")

    blocks: list[Block] = [
        letterhead(org),
        heading(title, 1),
        facts([
            ("Organisation", org.name),
            ("Funder", funder.name),
            ("Funding", f"{what}, reference {funding.reference}"),
            ("Annual value", money(funding.annual_value)),
            ("Last day of funding", long_date(last_day)),
            ("The end takes effect", long_date(letter.funding_end)),
            ("Plan dated", short_date(made_on)),
            ("Plan contact", person_line(contact) if contact else ""),
        ]),
        quote(profile, profile.funding_end_plan.clause,
              f"This plan sets out how {org.name} will manage the end of the {what}. "
              f"{the_compact(profile, capital=True)} asks voluntary and community "
              "organisations to"),
    ]
    if letter.summary:
        blocks.append(heading("Summary"))
        blocks += [para(p) for p in paragraphs_of(letter.summary)]

    beneficiaries = letter.beneficiaries
    blocks.append(heading("Beneficiaries and how they are moved on"))
    if beneficiaries is not None:
        if beneficiaries.count is not None:
            blocks.append(para(f"{beneficiaries.count} people use the service."))
        if beneficiaries.groups:
            blocks.append(para("The people most affected are:"))
            blocks.append(bullets(beneficiaries.groups))
        if beneficiaries.transition:
            blocks.append(para("How each person will be moved on:"))
            blocks.append(bullets(beneficiaries.transition))
        if beneficiaries.safeguarding:
            blocks.append(para(beneficiaries.safeguarding, label="Safeguarding:"))

    blocks.append(heading("Notice to beneficiaries"))
    told = letter.beneficiary_notice
    if told is not None:
        blocks.append(para(f"People who use the service will be told on {long_date(told.date)}: "
                           f"{told.method}."))
    if latest is not None:
        blocks.append(para(f"To give them at least {profile.funding_end_plan.beneficiary_notice_months}"
                           f" months' notice before funding ends, they must be told by "
                           f"{long_date(latest)}."))

    staff = letter.staff_and_volunteers
    blocks.append(heading("Staff and volunteers"))
    if staff is not None:
        if staff.staff:
            blocks.append(para(staff.staff, label="Staff:"))
        if staff.volunteers:
            blocks.append(para(staff.volunteers, label="Volunteers:"))

    assets = letter.assets_and_funds
    blocks.append(heading("Contracts, leases, assets and unspent funds"))
    if assets is not None:
        if assets.contracts_and_leases:
            blocks.append(para("Contracts and leases:"))
            blocks.append(bullets(assets.contracts_and_leases))
        if assets.assets:
            blocks.append(para("Assets:"))
            blocks.append(bullets(assets.assets))
        if assets.unspent_funds:
            blocks.append(para(assets.unspent_funds, label="Unspent funds:"))

    blocks.append(heading("Records and data"))
    blocks += [para(p) for p in paragraphs_of(letter.records)]

    blocks.append(heading("Communications"))
    blocks.append(bullets(letter.communications))

    if letter.options:
        blocks.append(heading("Options for the future"))
        blocks.append(bullets(letter.options))

    blocks.append(heading("Risks"))
    if letter.risks:
        blocks.append(table(["Risk", "How we will manage it", "Owner"],
                            [[r.risk, r.mitigation, r.owner or ""] for r in letter.risks]))

    blocks.append(heading("Milestones"))
    if letter.milestones:
        rows = [[short_date(m.date), m.action, m.owner or ""]
                for m in sorted(letter.milestones, key=lambda m: m.date)]
        blocks.append(table(["Date", "Action", "Owner"], rows))
    blocks.append(para(f"The last day of funding is {long_date(last_day)} (the end takes effect "
                       f"on {long_date(letter.funding_end)})."))

    blocks += contact_and_formats(contact, org, noun="plan")

    return LetterContext(
        kind="funding-end-plan", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=org.name, reference=funding.reference, organisation=org.name,
        footer=f"{org.name} · funding-end plan · {funding.reference}",
        running_header=f"{org.name} · funding-end plan",
        letter_date=made_on, layout="document", subject=title, dates=dict(report.dates),
    )
