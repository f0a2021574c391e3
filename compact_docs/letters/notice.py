"""The wording of a funder's notice that funding will end, be reduced or be varied."""

from __future__ import annotations

from compact_docs.checks import Report
from compact_docs.dates import describe_period, long_date
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
    UNTIL_LABELS,
    address,
    contact_and_formats,
    dispute_route,
    funding_name,
    last_funded_day,
    letterhead,
    notice_dates,
    quote,
    salutation,
    signature,
    the_compact,
)
from compact_docs.models import NoticeLetter
from compact_docs.profile import Profile

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
    funder, org = letter.funder, letter.organisation
    what = funding_name(letter.funding)
    letter_date = letter.date or letter.notice.sent.date()
    officer = funder.contact or funder.signatory
    title = f"{_TITLES[letter.decision.action]}: {what}, {org.name}"
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
        *_opening(letter, profile, what),
        *_the_decision(letter),
        *_why(letter),
        *_involvement(letter),
        *_equality_impact(letter, profile),
        *_notice_period(letter, report, profile),
        *_right_to_respond(letter, profile),
        *_support(letter, profile),
        *_what_we_ask(letter, profile),
        heading("If you disagree"),
        *dispute_route(profile, funder, org,
                       "If you disagree with the decision or with how it was made, please tell us first."),
        *contact_and_formats(officer, funder),
        signature(closing, funder.signatory or funder.contact, funder.name),
    ]
    return LetterContext(
        kind="notice", title=title, blocks=blocks, letter=letter, profile=profile, report=report,
        sender=funder.name, reference=letter.funding.reference, organisation=org.name,
        footer=f"{funder.name} · {profile.short_name} notice · {letter.funding.reference}",
        running_header=f"{org.name} · {letter.funding.reference}",
        letter_date=letter_date, subject=title, dates=dict(report.dates),
    )


def _opening(letter: NoticeLetter, profile: Profile, what: str) -> list[Block]:
    effective = letter.notice.effective
    blocks = [para(f"I am writing to give you formal written notice under {the_compact(profile)} of a "
                   f"decision about the {what} {_funding_sentence(letter)}. "
                   + _decision_sentence(letter, letter.funder.name, what)
                   + f" The change takes effect on {long_date(effective)}.")]
    last = long_date(last_funded_day(effective))
    if letter.decision.action == "end":
        blocks.append(para(f"The last day of funding is {last}. No payment will be made for activity "
                           "after that date."))
    elif letter.decision.action == "reduce":
        blocks.append(para(f"The grant is paid at the current rate until {last}, and at the new rate "
                           "from the day the change takes effect."
                           if letter.funding.instrument == "grant" else
                           f"Payments continue at the current rate until {last}, and at the new rate "
                           "from the day the change takes effect."))
    return blocks


def _the_decision(letter: NoticeLetter) -> list[Block]:
    decision = letter.decision
    made = f"The decision was taken by the {decision.decision_maker} on {long_date(decision.decided_on)}."
    if decision.governance:
        made += f" Governance route: {decision.governance}."
    return [heading("The decision"), para(decision.summary), para(made)]


def _why(letter: NoticeLetter) -> list[Block]:
    return [heading("Why the decision was taken"),
            *[para(p) for p in paragraphs_of(letter.decision.rationale)]]


def _involvement(letter: NoticeLetter) -> list[Block]:
    if not letter.decision.engagement:
        return []
    return [heading("How we have involved you"),
            *[para(p) for p in paragraphs_of(letter.decision.engagement)]]


def _equality_impact(letter: NoticeLetter, profile: Profile) -> list[Block]:
    eia = letter.eia
    if eia is None:
        return []
    blocks = [heading("Equality Impact Assessment"),
              para(f"We assessed the equalities impact of this decision before it was taken (Equality "
                   f"Impact Assessment {eia.reference}, completed on {long_date(eia.date)}), as the "
                   f"Compact asks ({profile.cite(profile.eia.clause)})."),
              *[para(p) for p in paragraphs_of(eia.summary)]]
    if eia.mitigations:
        blocks += [para("The actions we will take to reduce the impact are:"), bullets(eia.mitigations)]
    blocks.append(para("You can ask us for a copy of the full assessment."))
    return blocks


def _notice_period(letter: NoticeLetter, report: Report, profile: Profile) -> list[Block]:
    rule, timing = profile.notice, letter.notice
    period = describe_period(rule.length, rule.unit)
    blocks = [heading("Notice period and key dates")]
    if letter.decision.action in rule.applies_to:
        blocks.append(para(f"The Compact asks for at least {period}' notice in writing "
                           f"({profile.cite(rule.clause)}). This letter is sent "
                           f"{DELIVERY_WORDS[timing.delivery]}; the table shows the date notice counts "
                           "from and the dates that follow from it."))
    blocks.append(notice_dates(profile, timing.sent, timing.delivery, timing.effective,
                               rule.length, rule.unit, rule.clause, report.dates,
                               until_label=UNTIL_LABELS[letter.decision.action]))
    reason = timing.exceptional_circumstances
    if isinstance(reason, str) and reason.strip():
        blocks.append(para(f"We are giving less than {period}' notice because of exceptional "
                           f"circumstances: {reason}"))
    return blocks


def _right_to_respond(letter: NoticeLetter, profile: Profile) -> list[Block]:
    response = letter.response
    window = profile.cite(profile.response.clause)
    blocks = [heading("Your right to respond")]
    if response is not None and (response.channel or response.deadline):
        how = f" to {response.channel}" if response.channel else " in writing"
        when = f" by {long_date(response.deadline)}" if response.deadline else ""
        blocks.append(para(f"You can respond to this decision during the notice period ({window}). "
                           f"Please send your response{how}{when}. We will consider it carefully and "
                           "reply in writing."))
        if response.can_change:
            blocks.append(para(response.can_change, label="What can still change:"))
    else:
        blocks.append(para(f"You can respond to this decision during the notice period ({window}). "
                           "Please write to the contact named below."))
    return blocks


def _support(letter: NoticeLetter, profile: Profile) -> list[Block]:
    register = profile.body(profile.dispute.register_body)
    support = list(letter.support)
    if register is not None:
        ways = ", ".join(x for x in (register.contact, register.email) if x)
        support.append(f"{register.name}" + (f" ({register.acronym})" if register.acronym else "")
                       + " gives free, independent advice to voluntary and community "
                       + "organisations" + (f": {ways}" if ways else ""))
    return [heading("Support we offer"), bullets(support)]


_ASK_LEADS = {
    "end": "The Compact asks voluntary and community organisations to",
    "reduce": "If the reduction means changing your services, the Compact asks voluntary and community "
              "organisations to",
    "vary": "If the change means changing your services, the Compact asks voluntary and community "
            "organisations to",
}


def _what_we_ask(letter: NoticeLetter, profile: Profile) -> list[Block]:
    action = letter.decision.action
    clause = profile.notice.ask_clauses.get(action, profile.funding_end_plan.clause)
    blocks = [heading("What we ask of you")]
    if letter.organisation_duties:
        blocks.append(bullets(letter.organisation_duties))
    blocks.append(quote(profile, clause, _ASK_LEADS[action]))
    return blocks
