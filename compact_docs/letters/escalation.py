"""The wording of a dispute letter at stage 1, 2 or 3 of the Compact's conflict resolution process."""

from __future__ import annotations

from datetime import date

from compact_docs.letters.blocks import (
    Block,
    LetterContext,
    bullets,
    facts,
    heading,
    para,
    paragraphs_of,
    references,
    short_date,
)
from compact_docs.letters.common import (
    address,
    contact_and_formats,
    letterhead,
    person_line,
    quote,
    salutation,
    signature,
    the_compact,
)
from compact_docs.models import EscalationLetter, Person
from compact_docs.rules.checks import Report
from compact_docs.rules.profile import Body, DisputeStage, Profile


def _body_address(bodies: list[Body], care_of: Body | None) -> Block:
    lines: list[str] = []
    for body in bodies:
        if body.contact:
            lines.append(body.contact)
        lines.append(body.name)
    if care_of is not None and care_of not in bodies:
        lines.append(f"c/o {care_of.name}")
    return Block("address", items=tuple(lines))


def _person_of(body: Body) -> Person | None:
    if not body.contact:
        return None
    name, _, role = body.contact.partition(",")
    return Person(name=name.strip(), role=role.strip() or None, email=body.email)


def _intro(letter: EscalationLetter, stage: DisputeStage, profile: Profile,
           register: Body | None) -> list[Block]:
    org, commissioner = letter.organisation, letter.commissioner.name
    process = f"{the_compact(profile)}'s conflict resolution process"
    if stage.entry == "commissioned":
        text = (f"We are writing to raise an issue with you informally, under stage "
                f"{stage.number} of {process}. As an organisation you commission, we would like "
                "to resolve it with you directly before taking it any further.")
    elif stage.entry == "any":
        helper = register.acronym or register.name if register else "you"
        text = (f"We are writing to raise a dispute with {commissioner} under stage "
                f"{stage.number} of {process}, and to ask {helper} to take it up.")
        if not org.commissioned:
            text += (f" As {org.name} is not commissioned by {commissioner}, the Compact brings "
                     f"our dispute straight to stage {stage.number}.")
    else:
        text = (f"We are referring our dispute with {commissioner} for a policy decision, under "
                f"stage {stage.number} of {process}. The earlier stages have not resolved it "
                "because it needs a decision on policy.")
    return [para(text), quote(profile, stage.clause, "The Compact says:")]


def escalation_context(letter: EscalationLetter, report: Report,
                       profile: Profile) -> LetterContext:
    """The blocks of a dispute letter for the letter's stage."""
    org = letter.organisation
    contact = org.contact or org.signatory
    stage = profile.stage(letter.stage)
    register = profile.body(profile.dispute.register_body)
    letter_date = letter.date or date.today()
    case = f": case {letter.case_ref}" if letter.case_ref else ""
    title = f"{profile.short_name} dispute, stage {stage.number} ({stage.name}){case}"
    recipient, greeting, closing, copies = _recipient(letter, stage, profile, register)
    blocks = [
        letterhead(org),
        recipient,
        references([
            ("Date", short_date(letter_date)),
            ("Case reference", letter.case_ref or ""),
            ("Contact", contact.name if contact else ""),
        ]),
        greeting,
        heading(title, 1),
        *_intro(letter, stage, profile, register),
        *_the_issue(letter),
        *_what_happens_next(stage, profile),
        *contact_and_formats(contact, org),
        signature(closing, org.signatory or org.contact, org.name),
        *([para("; ".join(copies), label="Copy to:")] if copies else []),
    ]
    return LetterContext(
        kind="escalation", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=org.name, reference=letter.case_ref or "",
        organisation=org.name,
        footer=f"{org.name} · {profile.short_name} dispute, stage {stage.number}"
               + (f" · {letter.case_ref}" if letter.case_ref else ""),
        running_header=f"{org.name} · stage {stage.number}",
        letter_date=letter_date, stage=stage.number, subject=title, dates=dict(report.dates),
    )


def _recipient(letter: EscalationLetter, stage: DisputeStage, profile: Profile,
               register: Body | None) -> tuple[Block, Block, str, list[str]]:
    """Who the letter goes to at this stage: its address, greeting, closing and copies.

    Stage entered by a commissioned organisation: its commissioner. Entered by anyone: the
    Compact's register body, copied to the commissioner. Entered by escalation: the stage's
    bodies, copied to the register body and the commissioner.
    """
    commissioner = letter.commissioner
    if stage.entry == "commissioned":
        person = commissioner.contact or commissioner.signatory
        return (address(commissioner, person), *salutation(person), [])
    copy_commissioner = _copy_line(commissioner.contact, commissioner.name)
    if stage.entry == "any" and register is not None:
        return (_body_address([register], None), *salutation(_person_of(register)), [copy_commissioner])
    bodies = [b for b in (profile.body(i) for i in stage.bodies) if b is not None]
    copies = [register.name + (f" ({register.contact})" if register.contact else "")] if register else []
    return _body_address(bodies, register), para("Dear Chair,"), "Yours sincerely,", [*copies, copy_commissioner]


def _the_issue(letter: EscalationLetter) -> list[Block]:
    """The issue, the policy decision needed, what was tried, and what the organisation asks."""
    org, issue = letter.organisation, letter.issue
    blocks = [
        facts([
            ("Organisation", org.name + ("" if org.commissioned else " (not commissioned)")),
            ("Commissioner", letter.commissioner.name),
            ("Issue first raised", short_date(issue.raised_on) if issue.raised_on else ""),
        ]),
        heading("The issue"),
        para(issue.summary),
        *(para(p) for p in paragraphs_of(issue.details)),
    ]
    if letter.policy_decision:
        blocks += [heading("The policy decision needed"), *(para(p) for p in paragraphs_of(letter.policy_decision))]
    if letter.tried:
        blocks += [heading("What we have tried so far"),
                   bullets([_attempt(a.date, a.action, a.outcome) for a in letter.tried])]
    if letter.asks:
        blocks += [heading("What we are asking for"), bullets(letter.asks)]
    return blocks


def _what_happens_next(stage: DisputeStage, profile: Profile) -> list[Block]:
    """The next stage if this one does not resolve it, or what is asked of the last stage."""
    if stage.number < profile.last_stage:
        following = profile.stage(stage.number + 1)
        text = (f"We would be grateful for a reply as soon as possible. If the issue cannot be "
                f"resolved at this stage, we will take it to stage {following.number} "
                f"({following.name}): {following.summary}")
    else:
        text = ("We ask that the referral is considered at the next meeting, and that we are told "
                "the decision and the reasons for it in writing.")
    return [heading("What happens next"), para(text)]


def _copy_line(person: Person | None, body: str) -> str:
    return (person_line(person) + f", {body}") if person else body


def _attempt(when: date | None, action: str, outcome: str | None) -> str:
    text = (f"{short_date(when)}: " if when else "") + action.rstrip(".") + "."
    if outcome:
        text += f" Outcome: {outcome.rstrip('.')}."
    return text
