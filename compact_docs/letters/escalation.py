"""The wording of a dispute letter at stage 1, 2 or 3 of the Compact's conflict resolution process.

The letter is written by the organisation itself (`voice: organisation`), or by the body that runs
the dispute process, such as BVSC, on its behalf (`voice: dispute-body`), quoting the organisation
where the words are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compact_docs.checks import Report
from compact_docs.letters.blocks import (
    Block,
    LetterContext,
    bullets,
    clean,
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
from compact_docs.models import EscalationLetter, Party, Person
from compact_docs.profile import Body, DisputeStage, Profile


@dataclass(frozen=True)
class _Parties:
    """Who writes, who receives, who signs and who is copied in, for one stage and voice."""

    sender: Party
    recipient: Block
    greeting: Block
    closing: str
    signer: Person | None
    contact: Person | None
    copies: tuple[str, ...]


def _person_of(body: Body) -> Person | None:
    if not body.contact:
        return None
    name, _, role = body.contact.partition(",")
    return Person(name=name.strip(), role=role.strip() or None, email=body.email)


def _party_of(body: Body) -> Party:
    """A body of the profile as the sender of a letter."""
    person = _person_of(body)
    return Party(name=body.name, signatory=person, contact=person)


def _copy_line(person: Person | None, body: str) -> str:
    return (person_line(person) + f", {body}") if person else body


def referred_bodies(letter: EscalationLetter, stage: DisputeStage, profile: Profile) -> list[Body]:
    """The bodies a stage-3 letter goes to: those the data names, else the stage's only body."""
    ids = letter.referred_to or (stage.bodies if len(stage.bodies) == 1 else [])
    return [b for b in (profile.body(i) for i in ids) if b is not None]


def _body_lines(body: Body, letter: EscalationLetter, profile: Profile) -> list[str]:
    """The address lines of a body: 'The Chair', its name, c/o or the organisation's address."""
    org = letter.organisation
    if body.of_organisation:
        lines = [f"{body.addressee or 'The Chair'}, governing board of {org.name}", *org.address]
    else:
        lines = [f"{body.addressee}, {body.name}" if body.addressee else body.contact or body.name]
        if body.addressee is None and body.contact:
            lines.append(body.name)
        care_of = profile.body(body.care_of) if body.care_of else None
        if care_of is not None:
            lines.append(f"c/o {care_of.name}")
    return [clean(line) for line in lines if clean(line)]


def _board_address(bodies: list[Body], letter: EscalationLetter, profile: Profile) -> Block:
    lines = [line for body in bodies for line in _body_lines(body, letter, profile)]
    return Block("address", items=tuple(lines))


def _board_greeting(bodies: list[Body]) -> Block:
    if all(b.addressee == "The Chair" for b in bodies) and bodies:
        return para("Dear Chairs," if len(bodies) > 1 else "Dear Chair,")
    return para("Dear Sir or Madam,")


def _parties(letter: EscalationLetter, stage: DisputeStage, profile: Profile) -> _Parties:
    org, commissioner = letter.organisation, letter.commissioner
    register = profile.body(profile.dispute.register_body)
    officer = commissioner.contact or commissioner.signatory
    by_body = letter.voice == "dispute-body" and register is not None
    sender = _party_of(register) if by_body and register is not None else org
    signer = sender.signatory or sender.contact
    org_contact = org.contact or org.signatory
    copies: list[str] = []
    if by_body:
        copies.append(_copy_line(org_contact, org.name))
    if stage.entry == "escalation":
        bodies = referred_bodies(letter, stage, profile)
        recipient, greeting = _board_address(bodies, letter, profile), _board_greeting(bodies)
        closing = "Yours sincerely,"
        if register is not None and not by_body:
            copies.append(register.name + (f" ({register.contact})" if register.contact else ""))
        copies.append(_copy_line(officer, commissioner.name))
    elif stage.entry == "any" and register is not None and not by_body:
        person = _person_of(register)
        recipient = Block("address", items=tuple(x for x in (register.contact, register.name) if x))
        greeting, closing = salutation(person)
        copies.append(_copy_line(officer, commissioner.name))
    else:
        recipient = address(commissioner, officer)
        greeting, closing = salutation(officer)
    return _Parties(sender, recipient, greeting, closing, signer, signer if by_body else org_contact,
                    tuple(copies))


def _process(profile: Profile) -> str:
    return f"{the_compact(profile)}'s conflict resolution process"


def _intro(letter: EscalationLetter, stage: DisputeStage, profile: Profile) -> list[Block]:
    org, commissioner = letter.organisation, letter.commissioner.name
    register = profile.body(profile.dispute.register_body)
    helper = (register.acronym or register.name) if register else "you"
    by_body = letter.voice == "dispute-body"
    if stage.entry == "commissioned":
        text = (f"{org.name} has raised an issue with us that the Compact asks it to resolve with you "
                f"informally first, under stage {stage.number} of {_process(profile)}. We ask you to "
                "take it up with the organisation directly." if by_body else
                f"We are writing to raise an issue with you informally, under stage {stage.number} of "
                f"{_process(profile)}. As an organisation you commission, we would like to resolve it "
                "with you directly before taking it any further.")
    elif stage.entry == "any":
        text = (f"We are writing on behalf of {org.name} about its dispute with {commissioner}, raised "
                f"with {helper} under stage {stage.number} of {_process(profile)}. We ask that a senior "
                "officer takes it up." if by_body else
                f"We are writing to raise a dispute with {commissioner} under stage {stage.number} of "
                f"{_process(profile)}, and to ask {helper} to take it up.")
        if not org.commissioned:
            skipped = next((s for s in profile.dispute.stages if s.entry == "commissioned"), None)
            cite = (f" ({profile.cite(skipped.others_clause)})"
                    if skipped is not None and skipped.others_clause else "")
            text += (f" As {org.name} is not commissioned by {commissioner}, the Compact brings the "
                     f"dispute straight to stage {stage.number}{cite}.")
    else:
        names = " and ".join(_body_name(b, letter) for b in referred_bodies(letter, stage, profile))
        whose = f"{org.name}'s" if by_body else "our"
        text = (f"We are referring {whose} dispute with {commissioner} to {names or 'you'} for a policy "
                f"decision, under stage {stage.number} of {_process(profile)}. The earlier stages have "
                "not resolved it because it needs a decision on policy.")
    return [para(text), quote(profile, stage.clause, "The Compact says:")]


def _body_name(body: Body, letter: EscalationLetter) -> str:
    if body.of_organisation:
        return f"the governing board of {letter.organisation.name}"
    return f"the {body.name}" if not body.name.lower().startswith("the ") else body.name


def _the_issue(letter: EscalationLetter) -> list[Block]:
    issue = letter.issue
    details = paragraphs_of(issue.details)
    blocks = [heading("The issue"), para(issue.summary)]
    if details and issue.quoted_from:
        blocks.append(para(f"{issue.quoted_from} said:"))
        blocks += [para(f"\u201c{p}\u201d") for p in details]
    else:
        blocks += [para(p) for p in details]
    return blocks


def _policy_decision(letter: EscalationLetter) -> list[Block]:
    if not letter.policy_decision:
        return []
    return [heading("The policy decision needed"),
            *[para(p) for p in paragraphs_of(letter.policy_decision)]]


def _attempt(when: date | None, action: str, outcome: str | None) -> str:
    text = (f"{short_date(when)}: " if when else "") + action.rstrip(".") + "."
    if outcome:
        text += f" Outcome: {outcome.rstrip('.')}."
    return text


def _tried(letter: EscalationLetter) -> list[Block]:
    if not letter.tried:
        return []
    title = ("What has been tried so far" if letter.voice == "dispute-body"
             else "What we have tried so far")
    return [heading(title), bullets([_attempt(a.date, a.action, a.outcome) for a in letter.tried])]


def _asks(letter: EscalationLetter) -> list[Block]:
    if not letter.asks:
        return []
    title = (f"What {letter.organisation.name} is asking for" if letter.voice == "dispute-body"
             else "What we are asking for")
    return [heading(title), bullets(letter.asks)]


def _what_happens_next(letter: EscalationLetter, stage: DisputeStage, profile: Profile) -> list[Block]:
    blocks = [heading("What happens next")]
    if stage.number >= profile.last_stage:
        register = profile.body(profile.dispute.register_body)
        told = (f"{letter.organisation.name} and {register.acronym or register.name} are"
                if letter.voice == "dispute-body" and register is not None else "we are")
        blocks.append(para(f"We ask that the referral is considered at the next meeting, and that {told} "
                           "told the decision and the reasons for it in writing."))
        return blocks
    following = profile.stage(stage.number + 1)
    if following.entry == "escalation":
        blocks.append(para(f"We would be grateful for a reply as soon as possible. The Compact takes a "
                           f"dispute on to stage {following.number} ({following.name}) only if a policy "
                           f"decision is required ({profile.cite(following.clause)})."))
    else:
        who = "the organisation" if letter.voice == "dispute-body" else "we"
        blocks.append(para(f"We would be grateful for a reply as soon as possible. If the issue cannot be "
                           f"resolved at this stage, {who} can take it to stage {following.number} "
                           f"({following.name}): {following.summary}"))
    return blocks


def escalation_context(letter: EscalationLetter, report: Report,
                       profile: Profile) -> LetterContext:
    """The blocks of a dispute letter for the letter's stage, in the letter's voice."""
    org, commissioner, issue = letter.organisation, letter.commissioner, letter.issue
    stage = profile.stage(letter.stage)
    parties = _parties(letter, stage, profile)
    letter_date = letter.date or date.today()
    case = f": case {letter.case_ref}" if letter.case_ref else ""
    title = f"{profile.short_name} dispute, stage {stage.number} ({stage.name}){case}"
    blocks: list[Block] = [
        letterhead(parties.sender),
        parties.recipient,
        references([
            ("Date", short_date(letter_date)),
            ("Case reference", letter.case_ref or ""),
            ("Contact", parties.contact.name if parties.contact else ""),
        ]),
        parties.greeting,
        heading(title, 1),
        *_intro(letter, stage, profile),
        facts([
            ("Organisation", org.name + ("" if org.commissioned else " (not commissioned)")),
            ("Commissioner", commissioner.name),
            ("Issue first raised", short_date(issue.raised_on) if issue.raised_on else ""),
        ]),
        *_the_issue(letter),
        *_policy_decision(letter),
        *_tried(letter),
        *_asks(letter),
        *_what_happens_next(letter, stage, profile),
        *contact_and_formats(parties.contact, parties.sender),
        signature(parties.closing, parties.signer, parties.sender.name),
    ]
    if parties.copies:
        blocks.append(para("; ".join(parties.copies), label="Copy to:"))
    return LetterContext(
        kind="escalation", title=title, blocks=blocks, letter=letter, profile=profile,
        report=report, sender=parties.sender.name, reference=letter.case_ref or "",
        organisation=org.name,
        footer=f"{parties.sender.name} · {profile.short_name} dispute, stage {stage.number}"
               + (f" · {letter.case_ref}" if letter.case_ref else ""),
        running_header=f"{org.name} · stage {stage.number}",
        letter_date=letter_date, stage=stage.number, subject=title, dates=dict(report.dates),
    )
