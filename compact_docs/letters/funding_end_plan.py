"""The wording of a voluntary organisation's plan for the end of a funding relationship."""

from __future__ import annotations

from datetime import date

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
from compact_docs.rules.checks import Report
from compact_docs.rules.dates import long_date
from compact_docs.rules.profile import Profile


def funding_end_plan_context(letter: FundingEndPlan, report: Report,
                             profile: Profile) -> LetterContext:
    """The blocks of a funding-end plan, a structured document rather than a letter."""
    org, funding = letter.organisation, letter.funding
    made_on = letter.date or date.today()
    title = f"Funding-end plan: {funding_name(letter.funding)}, {org.name}"
    blocks = [
        *_opening(letter, profile, title, made_on),
        *_summary(letter),
        *_beneficiaries(letter),
        *_notice_to_beneficiaries(letter, report, profile),
        *_staff_and_volunteers(letter),
        *_contracts_assets_and_funds(letter),
        heading("Records and data"),
        *(para(p) for p in paragraphs_of(letter.records)),
        heading("Communications"),
        bullets(letter.communications),
        *([heading("Options for the future"), bullets(letter.options)] if letter.options else []),
        *_risks(letter),
        *_milestones(letter),
        *contact_and_formats(org.contact or org.signatory, org, noun="plan"),
    ]
    return LetterContext(
        kind="funding-end-plan", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=org.name, reference=funding.reference, organisation=org.name,
        footer=f"{org.name} · funding-end plan · {funding.reference}",
        running_header=f"{org.name} · funding-end plan",
        letter_date=made_on, layout="document", subject=title, dates=dict(report.dates),
    )


def _opening(letter: FundingEndPlan, profile: Profile, title: str, made_on: date) -> list[Block]:
    """Letterhead, title, the facts of the funding, and the Compact's clause the plan answers."""
    org, funding = letter.organisation, letter.funding
    contact = org.contact or org.signatory
    return [
        letterhead(org),
        heading(title, 1),
        facts([
            ("Organisation", org.name),
            ("Funder", letter.funder.name),
            ("Funding", f"{funding_name(letter.funding)}, reference {funding.reference}"),
            ("Annual value", money(funding.annual_value)),
            ("Last day of funding", long_date(last_funded_day(letter.funding_end))),
            ("The end takes effect", long_date(letter.funding_end)),
            ("Plan dated", short_date(made_on)),
            ("Plan contact", person_line(contact) if contact else ""),
        ]),
        quote(profile, profile.funding_end_plan.clause,
              f"This plan sets out how {org.name} will manage the end of the {funding_name(letter.funding)}. "
              f"{the_compact(profile, capital=True)} asks voluntary and community "
              "organisations to"),
    ]


def _summary(letter: FundingEndPlan) -> list[Block]:
    if not letter.summary:
        return []
    return [heading("Summary"), *(para(p) for p in paragraphs_of(letter.summary))]


def _beneficiaries(letter: FundingEndPlan) -> list[Block]:
    """Who uses the service, who is most affected, how each is moved on, and safeguarding."""
    found = letter.beneficiaries
    blocks = [heading("Beneficiaries and how they are moved on")]
    if found is None:
        return blocks
    if found.count is not None:
        blocks.append(para(f"{found.count} people use the service."))
    blocks += _led_lists(("The people most affected are:", found.groups),
                         ("How each person will be moved on:", found.transition))
    if found.safeguarding:
        blocks.append(para(found.safeguarding, label="Safeguarding:"))
    return blocks


def _notice_to_beneficiaries(letter: FundingEndPlan, report: Report, profile: Profile) -> list[Block]:
    """When and how people are told, and the latest date that gives them the notice asked for."""
    blocks = [heading("Notice to beneficiaries")]
    told = letter.beneficiary_notice
    if told is not None:
        blocks.append(para(f"People who use the service will be told on {long_date(told.date)}: "
                           f"{told.method}."))
    latest = report.dates.get("beneficiary_notice_latest")
    if latest is not None:
        blocks.append(para(f"To give them at least {profile.funding_end_plan.beneficiary_notice_months}"
                           f" months' notice before funding ends, they must be told by "
                           f"{long_date(latest)}."))
    return blocks


def _staff_and_volunteers(letter: FundingEndPlan) -> list[Block]:
    staff = letter.staff_and_volunteers
    blocks = [heading("Staff and volunteers")]
    if staff is not None and staff.staff:
        blocks.append(para(staff.staff, label="Staff:"))
    if staff is not None and staff.volunteers:
        blocks.append(para(staff.volunteers, label="Volunteers:"))
    return blocks


def _contracts_assets_and_funds(letter: FundingEndPlan) -> list[Block]:
    assets = letter.assets_and_funds
    blocks = [heading("Contracts, leases, assets and unspent funds")]
    if assets is None:
        return blocks
    blocks += _led_lists(("Contracts and leases:", assets.contracts_and_leases), ("Assets:", assets.assets))
    if assets.unspent_funds:
        blocks.append(para(assets.unspent_funds, label="Unspent funds:"))
    return blocks


def _led_lists(*lists: tuple[str, list[str]]) -> list[Block]:
    """Each list that has items, after the words that lead into it."""
    return [block for lead, items in lists if items for block in (para(lead), bullets(items))]


def _risks(letter: FundingEndPlan) -> list[Block]:
    rows = [[r.risk, r.mitigation, r.owner or ""] for r in letter.risks]
    return [heading("Risks"), *([table(["Risk", "How we will manage it", "Owner"], rows)] if rows else [])]


def _milestones(letter: FundingEndPlan) -> list[Block]:
    """The dated steps in order, then the last day of funding."""
    rows = [[short_date(m.date), m.action, m.owner or ""] for m in sorted(letter.milestones, key=lambda m: m.date)]
    return [heading("Milestones"), *([table(["Date", "Action", "Owner"], rows)] if rows else []),
            para(f"The last day of funding is {long_date(last_funded_day(letter.funding_end))} (the end "
                 f"takes effect on {long_date(letter.funding_end)}).")]
