"""The case commands: triage, correct, merge, assign, escalate, close and write letters for dispute cases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli._options import (
    by_option,
    case_json_option,
    config_option,
    force_option,
    format_option,
    json_option,
    out_option,
    quiet_option,
    reason_option,
)
from cli._output import CompactGroup, _mail_config, _open_register, _print_findings, _print_json, _print_lines, _show

if TYPE_CHECKING:
    from compact_docs.register.records import Case
    from mailflows.casework import CaseChange


@click.group(cls=CompactGroup)
@config_option
def cases() -> None:
    """Work the dispute cases: triage, correct, merge, assign, escalate, close, write letters.

    Every change is recorded in the case's history with who made it (--by, default your user
    name) and why (--reason). Corrections of the router (open, attach, restage) are kept with the
    message for `compact-docs mail train`.

    \b
    Example:
      compact-docs cases list --stage 2 --config compact.toml
      compact-docs cases --config compact.toml escalate BXC-2026-0007 --reason "Needs a senior officer"
    """


def _by(actor: str | None) -> str:
    """Who makes a change: --by, else the person at this machine."""
    from compact_docs.register.records import caseworker

    return actor or caseworker()


def _changed(case: Case, as_json: bool, said: str) -> None:
    """A case after a change: its JSON object (with when it is due), or one line."""
    if as_json:
        from mailflows.casework import deadlines

        due = deadlines(_mail_config())
        _print_json(due.to_dict(case, due.today()))
    else:
        click.echo(said)


def _told(change: CaseChange, as_json: bool, next_step: str) -> None:
    """What became of a change's acknowledgement, and the next step (on stderr under --json)."""
    from mailflows.casework import send_now

    said = send_now(_mail_config(), change)
    if said:
        click.echo(said, err=as_json)
    click.echo(f"Next: {next_step}", err=as_json)


@cases.command("list")
@click.option("--stage", type=click.IntRange(1, 9), default=None, help="Only cases at this stage.")
@config_option
@json_option(help="Print a JSON array of cases.")
def cases_list(stage: int | None, as_json: bool) -> None:
    """List the cases in the register, oldest first, with when their mail came and when they are due.

    The JSON objects carry owner, received (the first message's date), stage_since, due (the
    last working day at the stage, from [cases.deadlines]) and overdue.

    \b
    Example:
      compact-docs cases list --stage 2 --json --config compact.toml
    """
    from mailflows.casework import deadlines

    due = deadlines(_mail_config())
    today = due.today()
    with _open_register(readonly=True) as register:
        found = register.cases(stage=stage)
    _show(as_json, [due.to_dict(c, today) for c in found], [due.line(c, today) for c in found] or ["No cases."])


@cases.command("show")
@click.argument("ref")
@config_option
@json_option(help="Print the case and its history as JSON.")
def cases_show(ref: str, as_json: bool) -> None:
    """Show a case: its stage, organisation, owner, dates, messages and history (who, when, why).

    \b
    Example:
      compact-docs cases show BXC-2026-0007 --config compact.toml
      compact-docs cases show BXC-2026-0007 --json --config compact.toml
    """
    from mailflows.casework import deadlines

    due = deadlines(_mail_config())
    today = due.today()
    with _open_register(readonly=True) as register:
        case = register.require_case(ref)
        events = register.events(case.ref)
    _show(as_json, {**due.to_dict(case, today), "events": [e.to_dict() for e in events]},
          case.lines(events, register.profile, due.stage_line(case, today)))


@cases.command("triage")
@config_option
@json_option(help="Print a JSON array of the waiting messages.")
def cases_triage(as_json: bool) -> None:
    """List the messages waiting for a person (needs-triage), oldest first, with the router's reasons.

    Open a case from one with `cases open`, or add it to a case with `cases attach`; moving it in
    the mailbox from the triage folder into a stage folder does the same.

    \b
    Example:
      compact-docs cases triage --config compact.toml
      compact-docs cases open "<abc@agewell.example>" --organisation "Bexley Age Well" --reason "A dispute"
    """
    from compact_docs.register.casework import triage_item, triage_lines, triage_queue

    with _open_register(readonly=True) as register:
        waiting = triage_queue(register)
    lines = [line for message in waiting for line in triage_lines(message)]
    _show(as_json, [triage_item(m) for m in waiting], lines or ["Nothing waits for triage."])


@cases.command("open")
@click.argument("message_id", metavar="MESSAGE-ID")
@click.option("--organisation", default=None,
              help="The organisation the case is for (default: the one the router recognised).")
@click.option("--commissioned/--not-commissioned", default=None,
              help="Whether the organisation is commissioned (default: from the organisations directory).")
@click.option("--stage", type=click.IntRange(1, 9), default=None,
              help="The stage to open at (default: 1 for a commissioned organisation, else 2).")
@reason_option("the case is opened")
@by_option
@config_option
@case_json_option
def cases_open(message_id: str, organisation: str | None, commissioned: bool | None, stage: int | None,
               reason: str, actor: str | None, as_json: bool) -> None:
    """Open a case from a recorded message the router did not make one of (triage or ignored).

    Recorded as a correction of the router, kept with the message for `mail train`.

    \b
    Example:
      compact-docs cases open "<abc@agewell.example>" --organisation "Bexley Age Well" --reason "Late payment dispute"
    """
    from mailflows.casework import open_case

    case = open_case(_mail_config(), message_id, organisation=organisation, commissioned=commissioned,
                     stage=stage, reason=reason, actor=actor)
    who = case.organisation or "an unknown organisation"
    _changed(case, as_json, f"{case.ref} opened at stage {case.stage} for {who}.")


@cases.command("attach")
@click.argument("message_id", metavar="MESSAGE-ID")
@click.argument("ref")
@reason_option("the message belongs to the case")
@by_option
@config_option
@case_json_option
def cases_attach(message_id: str, ref: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Add a recorded message that is on no case to a case (a correction of the router).

    \b
    Example:
      compact-docs cases attach "<def@agewell.example>" BXC-2026-0007 --reason "Same invoice, new thread"
    """
    from compact_docs.register.casework import attach_message

    with _open_register() as register:
        case = attach_message(register, message_id, ref, actor=_by(actor), reason=reason)
    _changed(case, as_json, f"The message is now on {case.ref} (stage {case.stage}).")


@cases.command("restage")
@click.argument("ref")
@click.option("--stage", type=click.IntRange(1, 9), default=None, help="The stage the case belongs at.")
@click.option("--organisation", default=None,
              help="Whose case it really is (the router did not know the sender, or guessed wrong).")
@click.option("--commissioned/--not-commissioned", default=None,
              help="With --organisation: whether it is commissioned (default: from the directory).")
@reason_option("the case belongs at that stage")
@by_option
@config_option
@case_json_option
def cases_restage(ref: str, stage: int | None, organisation: str | None, commissioned: bool | None, reason: str,
                  actor: str | None, as_json: bool) -> None:
    """Put a case at another stage, up or down, or put right its organisation: corrections of the router.

    A stage correction is kept with the message for `mail train`. To move a case up because the
    dispute went on, use `cases escalate`, which also tells the organisation.

    \b
    Example:
      compact-docs cases restage BXC-2026-0007 --stage 1 --reason "They have not tried their commissioner yet"
      compact-docs cases restage BXC-2026-0009 --organisation "Crayford Larder" --reason "Forwarded by the council"
    """
    from mailflows.casework import restage_case

    if stage is None and organisation is None:
        raise click.UsageError("give --stage N, --organisation NAME, or both")
    config = _mail_config()
    case = restage_case(config, ref, stage=stage, organisation=organisation, commissioned=commissioned,
                        reason=reason, actor=actor)
    name = config.compact_profile.stage(case.stage).name
    who = case.organisation or "an unknown organisation"
    _changed(case, as_json, f"{case.ref} is now at stage {case.stage}, {name}, for {who}.")


@cases.command("merge")
@click.argument("ref")
@click.option("--into", "into", required=True, metavar="REF", help="The case to keep.")
@reason_option("the two cases are one")
@by_option
@config_option
@case_json_option
def cases_merge(ref: str, into: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Merge a duplicate case into another: its messages join the kept case, it is closed as merged.

    \b
    Example:
      compact-docs cases merge BXC-2026-0009 --into BXC-2026-0007 --reason "The same complaint, forwarded"
    """
    from mailflows.casework import merge_cases

    case = merge_cases(_mail_config(), ref, into, actor=actor, reason=reason)
    _changed(case, as_json, f"{ref.upper()} is merged into {case.ref}.")


@cases.command("reopen")
@click.argument("ref")
@reason_option("the case is reopened")
@by_option
@config_option
@case_json_option
def cases_reopen(ref: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Reopen a closed case at the stage it closed at.

    \b
    Example:
      compact-docs cases reopen BXC-2026-0007 --reason "The invoice was not paid after all"
    """
    from compact_docs.register.casework import reopen_case

    with _open_register() as register:
        case = reopen_case(register, ref, actor=_by(actor), reason=reason)
    _changed(case, as_json, f"{case.ref} is open again at stage {case.stage}.")


@cases.command("note")
@click.argument("ref")
@click.argument("text")
@by_option
@config_option
@case_json_option
def cases_note(ref: str, text: str, actor: str | None, as_json: bool) -> None:
    """Add a note to a case's history (the note's text is its reason).

    \b
    Example:
      compact-docs cases note BXC-2026-0007 "Rang Jo Smith: the invoice is with finance"
    """
    from compact_docs.register.casework import add_note

    with _open_register() as register:
        case = add_note(register, ref, text, actor=_by(actor))
    _changed(case, as_json, f"Note added to {case.ref}.")


@cases.command("assign")
@click.argument("ref")
@click.argument("person")
@reason_option("the case goes to this person", required=False)
@by_option
@config_option
@case_json_option
def cases_assign(ref: str, person: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Say who owns a case (shown in `cases list` and `cases show`).

    \b
    Example:
      compact-docs cases assign BXC-2026-0007 "Priya Shah" --reason "Leads on health contracts"
    """
    from compact_docs.register.casework import assign_case

    with _open_register() as register:
        case = assign_case(register, ref, person, actor=_by(actor), reason=reason)
    _changed(case, as_json, f"{case.ref} is assigned to {case.owner}.")


@cases.command("overdue")
@config_option
@json_option(help="Print a JSON array of the overdue cases.")
def cases_overdue(as_json: bool) -> None:
    """List the open cases past their stage's deadline, longest overdue first.

    Deadlines are working days per stage from [cases.deadlines] (stage-1 10, stage-2 20 by
    default), not counting weekends and the profile's bank holidays, from the day the case
    reached its stage (for its first stage, the day its first message came).

    \b
    Example:
      compact-docs cases overdue --config compact.toml --json
    """
    from mailflows.casework import deadlines

    due = deadlines(_mail_config())
    today = due.today()
    with _open_register(readonly=True) as register:
        late = due.overdue(register.cases(status="open"), today)
    over = {c.ref: due.working_days_over(c, today) for c in late}
    _show(as_json, [{**due.to_dict(c, today), "working_days_over": over[c.ref]} for c in late],
          [f"{due.line(c, today)}  ({over[c.ref]} working day(s) over)" for c in late] or ["No case is overdue."])


@cases.command("escalate")
@click.argument("ref")
@click.option("--reason", required=True, help="Why the case moves up a stage.")
@by_option
@quiet_option
@config_option
@case_json_option
def cases_escalate(ref: str, reason: str, actor: str | None, quiet: bool, as_json: bool) -> None:
    """Move a case up one stage of the Compact's conflict-resolution process and tell the organisation.

    The organisation who raised the case gets a short acknowledgement of the new stage over
    [mail.smtp] (--quiet not to); the next step is printed.

    \b
    Example:
      compact-docs cases escalate BXC-2026-0007 --reason "A policy decision is needed"
    """
    from mailflows.casework import escalate_case

    config = _mail_config()
    change = escalate_case(config, ref, reason=reason, actor=actor, quiet=quiet)
    case = change.case
    stage = config.compact_profile.stage(case.stage)
    _changed(case, as_json, f"{case.ref} is now at stage {case.stage}, {stage.name}.")
    to = (f" --to BODY (one or more of: {', '.join(stage.bodies)})"
          if stage.entry == "escalation" and len(stage.bodies) > 1 else "")
    _told(change, as_json, f"make the stage-{case.stage} letter: compact-docs cases letter {case.ref}{to}")


@cases.command("close")
@click.argument("ref")
@click.option("--outcome", required=True, help="How the dispute ended.")
@by_option
@quiet_option
@config_option
@case_json_option
def cases_close(ref: str, outcome: str, actor: str | None, quiet: bool, as_json: bool) -> None:
    """Close a case with its outcome and tell the organisation.

    The organisation who raised the case gets a short acknowledgement of the outcome over
    [mail.smtp] (--quiet not to).

    \b
    Example:
      compact-docs cases close BXC-2026-0007 --outcome "Invoice paid on 2 December"
    """
    from mailflows.casework import close_case

    change = close_case(_mail_config(), ref, outcome=outcome, actor=actor, quiet=quiet)
    _changed(change.case, as_json, f"{change.case.ref} is closed at stage {change.case.stage}.")
    _told(change, as_json, f"if it comes back, compact-docs cases reopen {change.case.ref} --reason ...")


@cases.command("letter")
@click.argument("ref")
@out_option(default=".", help="The folder to write the letter to.")
@format_option
@click.option("--policy-decision", default=None,
              help="The policy decision needed (stage 3); taken from the case when omitted.")
@click.option("--ask", "asks", multiple=True, help="What the organisation asks for (repeatable).")
@click.option("--to", "referred_to", multiple=True,
              help="Stage 3: the body that takes the policy decision, by profile id "
                   "(bexley: vcs-governing-board, strategic-commissioning-board; repeat for both).")
@click.option("--voice", type=click.Choice(["dispute-body", "organisation"]), default="dispute-body",
              show_default=True,
              help="dispute-body: BVSC's letter, quoting the organisation; organisation: a draft for the "
                   "organisation to send itself.")
@click.option("--organisation", default=None,
              help="The organisation's name, for a case the router could not tell whose it was.")
@force_option(help="Write it anyway for a closed case or an unknown organisation; overwrite a letter.")
@config_option
def cases_letter(ref: str, out_dir: Path, formats: tuple[str, ...], policy_decision: str | None,
                 asks: tuple[str, ...], referred_to: tuple[str, ...], voice: str, organisation: str | None,
                 force: bool) -> None:
    """Write the escalation letter for a case's current stage (DOCX and/or PDF).

    The letter is BVSC's (the profile's dispute body), to the commissioner at stages 1 and 2 and to
    the body named with --to at stage 3, quoting the organisation; --voice organisation makes the
    organisation's own draft instead. Refuses a closed case, and a case whose organisation is
    unknown, unless told (--force, or --organisation NAME).

    \b
    Example:
      compact-docs cases letter BXC-2026-0007 -o letters --config compact.toml
      compact-docs cases letter BXC-2026-0007 --to strategic-commissioning-board --config compact.toml
      compact-docs cases letter BXC-2026-0009 --organisation "Bexley Age Well" --config compact.toml
    """
    from compact_docs.errors import ComplianceError
    from mailflows.casework import write_case_letter

    try:
        result = write_case_letter(_mail_config(), ref, out_dir, formats, policy_decision=policy_decision,
                                   asks=asks, organisation=organisation, force=force,
                                   voice="organisation" if voice == "organisation" else "dispute-body",
                                   referred_to=referred_to)
    except ComplianceError as exc:
        if exc.report is not None:
            _print_findings(exc.report)
        raise
    _print_lines(result.files)
    for finding in result.report.findings:
        click.echo(f"  [{finding.severity}] {finding.code}: {finding.message}", err=True)
