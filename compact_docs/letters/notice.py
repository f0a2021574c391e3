"""The wording of a funder's notice that funding will end, be reduced or be varied."""

from __future__ import annotations

from datetime import date

from compact_docs.letters.blocks import (
    Block,
    LetterContext,
    bullets,
    heading,
    money,
    para,
    paragraphs_of,
    references,
    short_date,
)
from compact_docs.letters.common import (
    DELIVERY_WORDS,
    INSTRUMENT_WORDS,
    address,
    contact_and_formats,
    dispute_route,
    letterhead,
    notice_dates,
    quote,
    salutation,
    signature,
    the_compact,
)
from compact_docs.models import NoticeLetter
from compact_docs.rules.checks import Report
from compact_docs.rules.dates import describe_period, long_date
from compact_docs.rules.profile import Profile

_TITLES = {
    "end": "Notice of the end of funding",
    "reduce": "Notice of a reduction in funding",
    "vary": "Notice of a change to funding",
}


def _decision_sentence(letter: NoticeLetter, funder: str, what: str) -> str:
    action = letter.decision.action
    if action == "end":
        verb = f"end the {what}"
    elif action == "reduce":
        new = money(letter.decision.new_annual_value)
        verb = f"reduce the {what}" + (f" to {new} a year" if new else "")
    else:
        verb = f"change the terms of the {what}"
    return f"{funder} has decided to {verb} to {letter.organisation.name}."


def _funding_sentence(letter: NoticeLetter) -> str:
    funding = letter.funding
    parts = [f"agreement reference {funding.reference}"]
    if funding.annual_value is not None:
        parts.append(f"currently {money(funding.annual_value)} a year")
    if funding.start and funding.end:
        parts.append(f"running from {short_date(funding.start)} to {short_date(funding.end)}")
    if funding.stream:
        parts.append(f"funding stream: {funding.stream}")
    return "(" + "; ".join(parts) + ")"


def notice_context(letter: NoticeLetter, report: Report, profile: Profile) -> LetterContext:
    """The blocks of a notice letter, from the data, its compliance report and the profile."""
    funder, org, decision, timing = letter.funder, letter.organisation, letter.decision, letter.notice
    what = f"{letter.funding.programme} {INSTRUMENT_WORDS[letter.funding.instrument]}"
    sent_on = timing.sent.date()
    letter_date = letter.date or sent_on
    dates = report.dates
    officer = funder.contact or funder.signatory
    rule = profile.notice
    covered = decision.action in rule.applies_to
    period = describe_period(rule.length, rule.unit)
    title = f"{_TITLES[decision.action]}: {what}, {org.name}"
    greeting, closing = salutation(org.contact)

    blocks: list[Block] = [
        letterhead(funder),
        address(org, org.contact),
        references([
            ("Date", short_date(letter_date)),
            ("Our reference", letter.funding.reference),
            ("Contact", officer.name if officer else ""),
        ]),
        greeting,
        heading(title, 1),
        para(f"I am writing to give you formal written notice under {the_compact(profile)} of a "
             f"decision about the {what} {_funding_sentence(letter)}. "
             + _decision_sentence(letter, funder.name, what)
             + f" The change takes effect on {long_date(timing.effective)}."),
    ]
    if decision.action == "end":
        last = date.fromordinal(timing.effective.toordinal() - 1)
        blocks.append(para(f"The last day of funding is {long_date(last)}. No payment will be "
                           "made for activity after that date."))

    blocks.append(heading("The decision"))
    blocks.append(para(decision.summary))
    made = f"The decision was taken by the {decision.decision_maker} on {long_date(decision.decided_on)}."
    if decision.governance:
        made += f" Governance route: {decision.governance}."
    blocks.append(para(made))

    blocks.append(heading("Why the decision was taken"))
    blocks += [para(p) for p in paragraphs_of(decision.rationale)]

    if decision.engagement:
        blocks.append(heading("How we have involved you"))
        blocks += [para(p) for p in paragraphs_of(decision.engagement)]

    if letter.eia is not None:
        eia = letter.eia
        blocks.append(heading("Equality Impact Assessment"))
        blocks.append(para(f"We assessed the equalities impact of this decision before it was "
                           f"taken (Equality Impact Assessment {eia.reference}, completed on "
                           f"{long_date(eia.date)}), as the Compact asks "
                           f"({profile.cite(profile.eia.clause)})."))
        blocks += [para(p) for p in paragraphs_of(eia.summary)]
        if eia.mitigations:
            blocks.append(para("The actions we will take to reduce the impact are:"))
            blocks.append(bullets(eia.mitigations))
        blocks.append(para("You can ask us for a copy of the full assessment."))

    blocks.append(heading("Notice period and key dates"))
    if covered:
        blocks.append(para(f"The Compact asks for at least {period}' notice in writing "
                           f"({profile.cite(rule.clause)}). This letter is sent "
                           f"{DELIVERY_WORDS[timing.delivery]}; the table shows the date notice counts "
                           "from and the dates that follow from it."))
    blocks.append(notice_dates(profile, timing.sent, timing.delivery, timing.effective,
                               rule.length, rule.unit, rule.clause, dates,
                               final_day=decision.action == "end"))
    reason = timing.exceptional_circumstances
    if isinstance(reason, str) and reason.strip():
        blocks.append(para(f"We are giving less than {period}' notice because of exceptional "
                           f"circumstances: {reason}"))

    blocks.append(heading("Your right to respond"))
    response = letter.response
    if response is not None and (response.channel or response.deadline):
        how = f" to {response.channel}" if response.channel else " in writing"
        when = f" by {long_date(response.deadline)}" if response.deadline else ""
        blocks.append(para(f"You have the opportunity to respond to this decision "
                           f"({profile.cite(profile.response.clause)}). Please send your "
                           f"response{how}{when}. We will consider it carefully and reply in "
                           "writing."))
        if response.can_change:
            blocks.append(para(response.can_change, label="What can still change:"))
    else:
        blocks.append(para(f"You have the opportunity to respond to this decision "
                           f"({profile.cite(profile.response.clause)}). Please write to the "
                           "contact named below."))

    register = profile.body(profile.dispute.register_body)
    support = list(letter.support)
    if register is not None:
        ways = ", ".join(x for x in (register.contact, register.email) if x)
        support.append(f"{register.name}" + (f" ({register.acronym})" if register.acronym else "")
                       + " gives free, independent advice to voluntary and community "
                       + "organisations" + (f": {ways}" if ways else ""))
    blocks.append(heading("Support we offer"))
    blocks.append(bullets(support))

    blocks.append(heading("What we ask of you"))
    if letter.organisation_duties:
        blocks.append(bullets(letter.organisation_duties))
    blocks.append(quote(profile, profile.funding_end_plan.clause,
                        "The Compact asks voluntary and community organisations to"))

    blocks.append(heading("If you disagree"))
    blocks += dispute_route(profile, funder, org,
                            "If you disagree with the decision or with how it was made, please "
                            "tell us first.")

    blocks += contact_and_formats(officer, funder)
    blocks.append(signature(closing, funder.signatory or funder.contact, funder.name))

    return LetterContext(
        kind="notice", title=title, blocks=blocks, letter=letter, profile=profile, report=report,
        sender=funder.name, reference=letter.funding.reference, organisation=org.name,
        footer=f"{funder.name} · {profile.short_name} notice · {letter.funding.reference}",
        running_header=f"{org.name} · {letter.funding.reference}",
        letter_date=letter_date, subject=title, dates=dict(dates),
    )

