"""The compact-docs command line: thin click commands, each calling one library function."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from compact_docs.errors import CompactError
from compact_docs.kinds import DESCRIPTIONS, KINDS, Kind

if TYPE_CHECKING:
    from compact_docs.register.cases import CaseRegister
    from compact_docs.register.records import Case
    from compact_docs.rendering.batch_report import RowResult
    from compact_docs.rules.checks import Report
    from mailflows.casework import CaseChange
    from mailflows.config import MailConfig
    from mailflows.route import RoutingDecision
    from mailflows.watch import WatchedMessage


class CompactGroup(click.Group):
    """A click group that prints a CompactError as one clear line and exits with its code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CompactError as exc:
            hint = "; use --force to replace it" if getattr(exc, "existing", None) is not None else ""
            click.echo(f"Error: {exc}{hint}", err=True)
            ctx.exit(exc.exit_code)
        except RecursionError:
            # Input nested past what the readers refuse themselves (a TOML file, say): bad input,
            # said in one line, never a traceback or the "not compliant" exit code.
            click.echo("Error: the input is nested too deeply to read", err=True)
            ctx.exit(2)


# --- options and output that several commands share; each command words its own help where it differs
def _formats(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    return ("docx", "pdf") if value == "both" else (value,)


json_option = partial(click.option, "--json", "as_json", is_flag=True)
out_option = partial(click.option, "-o", "--out", "out_dir", show_default=True,
                     type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
force_option = partial(click.option, "--force", is_flag=True, help="Replace files that already exist.")
format_option = click.option(  # the command is given the formats to make: ('docx', 'pdf') for both
    "--format", "formats", type=click.Choice(["docx", "pdf", "both"]), default="both",
    show_default=True, callback=_formats, help="Which files to make.")
profile_option = partial(click.option, "--profile", "profile", default=None)
templates_option = partial(click.option, "--templates", "templates", default=None,
                           type=click.Path(file_okay=False, exists=True, path_type=Path),
                           help="A folder of templates that override the bundled ones by name.")
F = TypeVar("F", bound=Callable[..., object])
by_option = click.option("--by", "actor", default=None, metavar="NAME",
                         help="Who makes the change (default: your user name).")
kind_argument = click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
data_argument = click.argument("data", type=click.Path(dir_okay=False, path_type=Path))

_CONFIG_KEY = "compact_docs.config"


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    # ctx.meta is shared by a group and its subcommands, so --config works on either side.
    if value is not None:
        ctx.meta[_CONFIG_KEY] = value


config_option = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
    expose_value=False, callback=_remember_config,
    help="The mail configuration file (default: $COMPACT_CONFIG, then ./compact.toml).")


def _config_path() -> Path | None:
    value = click.get_current_context().meta.get(_CONFIG_KEY)
    return value if isinstance(value, Path) else None


def _mail_config() -> MailConfig:
    """The mail configuration (--config, else $COMPACT_CONFIG, else ./compact.toml), which must exist."""
    from mailflows.config import require_config

    return require_config(_config_path())


def _open_register(*, readonly: bool = False) -> CaseRegister:
    """The case register of the mail configuration."""
    from mailflows.route import open_register

    return open_register(_mail_config(), readonly=readonly)


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _print_lines(lines: Iterable[object]) -> None:
    for line in lines:
        click.echo(str(line))


def _print_json_line(item: RoutingDecision | WatchedMessage) -> None:
    click.echo(json.dumps(item.to_dict(), ensure_ascii=False))


def _show(as_json: bool, data: object, lines: Iterable[object]) -> None:
    """`data` as JSON for a script, or `lines` for a person."""
    if as_json:
        _print_json(data)
    else:
        _print_lines(lines)


def _print_findings(report: Report) -> None:
    """Each finding on stderr, one line of code and clause, one of message."""
    for finding in report.findings:
        click.echo(f"{finding.severity}: {finding.code} ({finding.clause}): {finding.message}", err=True)


@click.group(cls=CompactGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compact-docs")
def cli() -> None:
    """Letters checked against a local Compact, and a dispute mailbox that loses nothing.

    \b
    Example:
      compact-docs demo -o letters
      compact-docs check notice notice.yaml
    """


# --- checks, schemas, profiles ---------------------------------------------------------------------
@cli.command()
@kind_argument
@data_argument
@profile_option(help="A bundled profile name (bexley, national) or a path to a profile .toml file.")
@json_option(help="Print the report as one JSON object.")
def check(kind: str, data: Path, profile: str | None, as_json: bool) -> None:
    """Check a letter's data against the Compact without writing it.

    Exit 0 when compliant, 1 when not, 2 when the data or profile is bad.

    \b
    Example:
      compact-docs check notice notice.yaml --json
    """
    from compact_docs.rules.checks import check as run_check

    report = run_check(data, kind, profile)
    _show(as_json, report.to_dict(), report.lines())
    sys.exit(0 if report.compliant else 1)


@cli.command()
@kind_argument
def schema(kind: str) -> None:
    """Print the JSON Schema of a letter kind's data file, with a description of every field.

    \b
    Example:
      compact-docs schema notice > notice.schema.json
    """
    from compact_docs.models import model_for

    _print_json(model_for(kind).model_json_schema())


@cli.command()
@kind_argument
@click.option("--stage", type=click.IntRange(1, 3), default=2, show_default=True,
              help="For an escalation: the dispute stage to start from.")
def new(kind: str, stage: int) -> None:
    """Print a commented starter data file for a letter kind.

    Every field is there with a comment saying what it is and whether it is needed, filled in with
    the bundled example (optional fields it leaves out are commented out). Save it, change the
    values, check it, then write the letter.

    \b
    Example:
      compact-docs new notice > notice.yaml
      compact-docs check notice notice.yaml
    """
    from compact_docs.starter import starter_file

    click.echo(starter_file(kind, stage), nl=False)


@cli.group(cls=CompactGroup)
def profiles() -> None:
    """List and show Compact profiles (the rules each Compact sets).

    \b
    Example:
      compact-docs profiles list
    """


@profiles.command("list")
def profiles_list() -> None:
    """List the bundled Compact profiles.

    \b
    Example:
      compact-docs profiles list
    """
    from compact_docs.rules.profile import bundled_profile_names, load_profile

    for name in bundled_profile_names():
        profile = load_profile(name)
        click.echo(f"{name:<10} {profile.name} ({profile.area})")


@profiles.command("show")
@click.argument("name")
@json_option(help="Print the whole profile as JSON.")
def profiles_show(name: str, as_json: bool) -> None:
    """Show a profile's rules: notice, deemed service, dispute stages and bodies.

    NAME is a bundled profile name or a path to a profile .toml file.

    \b
    Example:
      compact-docs profiles show bexley
    """
    from compact_docs.rules.profile import load_profile

    profile = load_profile(name)
    _show(as_json, profile.model_dump(mode="json"), profile.summary())


# --- letters: one command per kind, demo, examples, templates ------------------------------------
def _letter_command(kind: Kind) -> click.Command:
    """The `compact-docs KIND DATA` command for one letter kind."""

    @click.command(name=kind, help=f"""Write {DESCRIPTIONS[kind]} as DOCX and PDF.

    DATA is a YAML or JSON file. The letter is checked against the Compact first: with an error
    finding nothing is written, the findings are printed and the exit code is 1. Warnings are
    printed and the letter is written. Prints the files it made.

    \b
    Example:
      compact-docs {kind} {kind}.yaml -o letters --format both
    """)
    @data_argument
    @out_option(default=".")
    @format_option
    @profile_option(help="A bundled profile name or a profile .toml file (default: the data's).")
    @click.option("--archival", is_flag=True, help="Make the PDF PDF/A-3b with the letter's data attached as JSON.")
    @templates_option()
    @force_option()
    def command(data: Path, out_dir: Path, formats: tuple[str, ...], profile: str | None,
                archival: bool, templates: Path | None, force: bool) -> None:
        from compact_docs.errors import ComplianceError
        from compact_docs.rendering.renderer import render

        try:
            result = render(data, formats, out_dir, profile=profile, templates=templates,
                            force=force, archival=archival, kind=kind)
        except ComplianceError as exc:
            if exc.report is not None:
                _print_findings(exc.report)
            raise
        _print_findings(result.report)
        _print_lines(result.files)

    return command


for _kind in KINDS:
    cli.add_command(_letter_command(_kind))


@cli.command()
@out_option(default="letters")
def demo(out_dir: Path) -> None:
    """Write every letter kind (and every escalation stage) from the bundled examples.

    Each letter is written as DOCX and PDF, with the kind in its file name, and recorded in the
    folder's manifest.jsonl. Running it again replaces the demo's own letters (and only those).

    \b
    Example:
      compact-docs demo -o letters
    """
    from compact_docs.rendering.renderer import render_examples

    for result in render_examples(out_dir, force=True):
        _print_lines(result.files)


@cli.command()
@out_option(default="examples")
@force_option()
def examples(out_dir: Path, force: bool) -> None:
    """Copy the bundled example data files (one per kind and escalation stage) to start from.

    Edit a copy, check it, then write the letter.

    \b
    Example:
      compact-docs examples -o data
      compact-docs check notice data/notice.yaml
    """
    from compact_docs.examples import write_examples

    _print_lines(write_examples(out_dir, force=force))


@cli.group(cls=CompactGroup)
def templates() -> None:
    """List the letter templates in use, and lint your own.

    \b
    Example:
      compact-docs templates list --templates my-templates
      compact-docs templates lint my-templates
    """


@templates.command("list")
@templates_option()
def templates_list(templates: Path | None) -> None:
    """Show which template lays out each letter kind in each format, and where it comes from.

    \b
    Example:
      compact-docs templates list --templates my-templates
    """
    from compact_docs.rendering.template_folder import TemplateFolder, templates_in_use

    _print_lines(choice.line() for choice in templates_in_use(TemplateFolder(templates), KINDS))


@templates.command("lint")
@click.argument("folder", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
def templates_lint(folder: Path | None) -> None:
    """Check templates for Jinja syntax errors and names the letter data does not provide.

    FOLDER defaults to the bundled templates. Prints one line per problem (file, line or DOCX
    paragraph, message) and exits 1 if there is any.

    \b
    Example:
      compact-docs templates lint my-templates
    """
    from compact_docs.rendering.lint import lint_folder, linted_names

    problems = lint_folder(folder)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{len(linted_names(folder))} templates, no problems")


# --- batch -----------------------------------------------------------------------------------------
@contextmanager
def _progress_bar() -> Iterator[tuple[Callable[[int], None], Callable[[RowResult], None]]]:
    """A progress bar of letters on a terminal (none otherwise), as the batch's two callbacks."""
    if not sys.stderr.isatty():
        yield (lambda _total: None), (lambda _result: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("letters"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        transient=True)
    task = progress.add_task("letters", start=False)

    def on_start(total: int) -> None:  # shown once the rows are read
        progress.update(task, total=total)
        progress.start_task(task)
        progress.start()

    try:
        yield on_start, lambda _result: progress.advance(task)
    finally:
        progress.stop()


@cli.command()
@kind_argument
@click.argument("rows", type=click.Path(dir_okay=False, path_type=Path))
@out_option(default="letters")
@format_option
@click.option("--defaults", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A YAML or JSON file of values shared by every row (the funder, the decision...).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes laying out letters [default: the number of cores].")
@click.option("--calendar", is_flag=True,
              help="Also write deadlines.ics with each letter's response deadline and effective date.")
@profile_option(help="A bundled profile name or a profile .toml file (default: each row's).")
@templates_option()
@click.option("--archival", is_flag=True, help="Make PDF/A-3b PDFs with each letter's data attached.")
@click.option("--dates", "date_locale", type=click.Choice(["en-GB", "en-US"]), default="en-GB", show_default=True,
              help="How a date such as 01/04/2025 is read: day first (en-GB) or month first; ISO dates always work.")
@force_option()
def batch(kind: str, rows: Path, out_dir: Path, formats: tuple[str, ...], defaults: Path | None,
          workers: int | None, calendar: bool, profile: str | None, templates: Path | None,
          archival: bool, date_locale: str, force: bool) -> None:
    """Write one letter per row of a grants register: a mail merge that reports every row.

    ROWS is a CSV file whose headers are dotted field paths (organisation.name, notice.sent;
    list fields such as support separated by " | "), a YAML or JSON list, or JSON Lines. Values
    shared by every row can come from --defaults. Dates may be written 01/04/2025 (--dates) and
    money £36,000.00. Each row is checked against the Compact; rows with bad data, error findings
    or a reference another row has too are refused and reported (rows and columns as Excel shows
    them), the rest are written. Running it again is a resume: a letter already made from the same
    data is "already made", one made from other data is refused unless --force. report.csv and
    report.json list every row of every run (each run's own report is kept in reports/). Exit 0
    when no row was refused, 1 when some were, 2 when ROWS itself cannot be read.

    \b
    Example:
      compact-docs batch notice register.csv --defaults shared.yaml -o letters --calendar
    """
    from compact_docs.rendering.batch import run_batch

    with _progress_bar() as (on_start, on_result):
        summary = run_batch(rows, kind, out_dir, formats=formats, defaults=defaults, workers=workers,
                            profile=profile, templates=templates, force=force, archival=archival,
                            calendar=calendar, date_locale="en-US" if date_locale == "en-US" else "en-GB",
                            on_start=on_start, on_result=on_result)
    for result in summary.results:
        if result.status == "refused":
            lines = result.reason.splitlines() or [""]
            click.echo(f"row {result.row}: refused: {lines[0]}", err=True)
            for line in lines[1:]:
                click.echo(f"    {line}", err=True)
    click.echo(summary.line(out_dir))
    sys.exit(0 if summary.refused == 0 else 1)


# --- mail ------------------------------------------------------------------------------------------
@cli.group(cls=CompactGroup)
@config_option
def mail() -> None:
    """Classify and route dispute mail to the stages of the Compact.

    \b
    Example:
      compact-docs mail classify message.eml --json
      compact-docs mail --config compact.toml route --mbox disputes.mbox
    """


@mail.command("classify")
@click.argument("message", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@json_option(help="Print the decision as one JSON object.")
def mail_classify(message: Path, as_json: bool) -> None:
    """Say which stage a message (.eml) reaches, and why, without writing anything.

    Reads the case register named by the configuration (if there is one) to see whether the
    message belongs to a case; works without a configuration, treating every sender as unknown.

    \b
    Example:
      compact-docs mail classify message.eml --config compact.toml --json
    """
    from mailflows.config import load_config
    from mailflows.route import classify_file

    decision = classify_file(message, load_config(_config_path(), required=False))
    _show(as_json, decision.to_dict(), decision.lines())


@mail.command("route")
@click.option("--mbox", type=click.Path(dir_okay=False, path_type=Path), default=None, help="An mbox file to route.")
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A Maildir folder to route.")
@config_option
@json_option(help="Print one JSON object per message, one per line, in order.")
def mail_route(mbox: Path | None, maildir: Path | None, as_json: bool) -> None:
    """Route every message of a mailbox into the case register, in order.

    Opens, joins and escalates cases as the Compact's rules say. Running it again over the same
    mailbox changes nothing: a message already recorded is recognised by its Message-ID.

    \b
    Example:
      compact-docs mail route --mbox disputes.mbox --config compact.toml --json
    """
    from mailflows.route import route_mailbox

    if (mbox is None) == (maildir is None):
        raise click.UsageError("give exactly one of --mbox FILE or --maildir DIR")
    counts: Counter[str] = Counter()
    for decision in route_mailbox(_mail_config(), mbox=mbox, maildir=maildir):
        if as_json:
            _print_json_line(decision)
        elif not decision.already_recorded:
            _print_lines(decision.lines())
        counts["already recorded" if decision.already_recorded else decision.disposition] += 1
    if not as_json:
        click.echo("Routed: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no messages"))


@mail.command("evaluate")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--wrong", "show_wrong", is_flag=True, help="List each wrongly routed message and why.")
def mail_evaluate(folder: Path, as_json: bool, show_wrong: bool) -> None:
    """Measure routing on labelled mail: accuracy per disposition and a confusion matrix.

    FOLDER holds .eml files, .mbox threads and a labels.json of file name -> disposition (a list,
    one per message, for a thread). Each .eml is classified on its own; each thread is routed in
    order into a throwaway register. Nothing is written. The configuration defaults to
    FOLDER/compact.toml when there is one.

    \b
    Example:
      compact-docs mail evaluate labelled/ --config compact.toml
    """
    from mailflows.config import require_config
    from mailflows.evaluation import evaluate_folder

    path = _config_path() or (folder / "compact.toml" if (folder / "compact.toml").is_file() else None)
    evaluation = evaluate_folder(folder, require_config(path))
    if as_json:
        _print_json(evaluation.to_dict())
        return
    for line in evaluation.lines(show_wrong=show_wrong):
        click.echo(line)


@mail.command("train")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print what was done as one JSON object.")
def mail_train(as_json: bool) -> None:
    """Refit the routing weights on the bundled corpus plus the register's corrections.

    Offline, in seconds; needs scikit-learn (pip install 'compact-docs[train]'). The weights go
    to [mail.routing] weights (default routing-weights.json beside the configuration), which
    routing then reads instead of the bundled ones.

    \b
    Example:
      compact-docs mail train --config compact.toml
    """
    from mailflows.config import require_config
    from mailflows.training import train

    result = train(require_config(_config_path()))
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(f"Trained on {result.texts} texts ({result.corrections} corrections) in "
               f"{result.seconds:.1f} s; weights: {result.path}")
    for name, after in result.after.items():
        before = result.before.get(name)
        shown = "none" if before is None else f"{before:.1%}"
        click.echo(f"  {name}: {result.examples[name]} examples, right on them {shown} before, "
                   f"{after:.1%} after")


@mail.command("watch")
@config_option
@click.option("--once", is_flag=True, help="Route the messages in the inbox now, print a summary, exit.")
@json_option(help="Print one JSON object per message, one per line, in order.")
def mail_watch(once: bool, as_json: bool) -> None:
    """Route the IMAP dispute inbox of [mail.imap], exactly once, and keep watching it.

    Routes the backlog in batches (recorded in the case register before each move), then waits
    for new mail with IDLE, reconnecting with backoff when the server drops the connection.
    Acknowledgements go out over [mail.smtp] when it is configured. A line per message goes to
    the log (standard error). SIGTERM or Ctrl-C finishes the current batch, then stops.
    The password comes from the variable named by password_env, never from the command line.

    \b
    Example:
      COMPACT_IMAP_PASSWORD=... compact-docs mail watch --config compact.toml --once
      compact-docs mail watch --config compact.toml --json
    """
    import threading

    from mailflows.watch import log_to, stop_on_signals, watch_mailbox

    with log_to(sys.stderr), stop_on_signals(threading.Event()) as stop:
        summary = watch_mailbox(_mail_config(), once=once, on_message=_print_json_line if as_json else None,
                                stop=stop)
    if not as_json:
        click.echo(summary.line())


@mail.command("outbox")
@config_option
@click.option("--all", "include_sent", is_flag=True, help="List sent acknowledgements too.")
@json_option(help="Print a JSON array of outbox entries.")
def mail_outbox(include_sent: bool, as_json: bool) -> None:
    """List the acknowledgements that need a look: waiting, given up, or partly sent, and why.

    An acknowledgement is given up when the SMTP server refuses it outright (5xx), or refuses it
    for now too many times; `mail retry` sends it again once the cause is mended. One the server
    took for some recipients and refused for others is partly sent, and never sent again.

    \b
    Example:
      compact-docs mail outbox --config compact.toml
      compact-docs mail outbox --all --json --config compact.toml
    """
    from mailflows.outbox import Outbox

    with _open_register(readonly=True) as register:
        outbox = Outbox(register)
        entries = outbox.entries(include_sent=include_sent)
        anything = bool(entries) or outbox.queued_ever()
    lines = [line for entry in entries for line in entry.lines()]
    nothing = "Every acknowledgement has been sent." if anything else "The outbox is empty."
    _show(as_json, [e.to_dict() for e in entries], lines or [nothing])


@mail.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--given-up", "every_given_up", is_flag=True, help="Retry every given-up acknowledgement.")
@config_option
def mail_retry(ids: tuple[int, ...], every_given_up: bool) -> None:
    """Send given-up acknowledgements again, when the watcher next delivers.

    Name given-up outbox entries (numbers from `mail outbox`), or --given-up for all of them. Each
    gets fresh attempts; one already sent, even partly, is refused, so nobody gets one twice, and so
    is one still waiting (the watcher tries it at its next attempt). A running
    `mail watch` delivers after the next message arrives or its next IDLE renewal (at most
    idle_renew_minutes); `mail watch --once` delivers at once.

    \b
    Example:
      compact-docs mail retry 12 15 --config compact.toml
      compact-docs mail retry --given-up --config compact.toml
    """
    from mailflows.outbox import retry_given_up

    if bool(ids) == every_given_up:
        raise click.UsageError("name the outbox entries to retry, or give --given-up (not both)")
    retried = retry_given_up(_mail_config(), ids, every_given_up=every_given_up)
    for entry in retried:
        click.echo(f"{entry.id:>5}  due again: {', '.join(entry.recipients)} ({entry.case_ref or 'no case'})")
    if not retried:
        click.echo("Nothing was given up.")
        return
    one = len(retried) == 1
    click.echo(f"{len(retried)} acknowledgement{'' if one else 's'} due again; `compact-docs mail watch` "
               f"sends {'it' if one else 'them'} when it next delivers.")


# --- cases -----------------------------------------------------------------------------------------
@cli.group(cls=CompactGroup)
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


def reason_option(what: str, *, required: bool = True) -> Callable[[F], F]:
    """--reason: why a change is made, kept in the case's history."""
    if required:  # no default at all: click treats an explicit default=None as a value given
        return click.option("--reason", required=True, help=f"Why {what}; kept in the case's history.")
    return click.option("--reason", default="", help=f"Why {what}; kept in the case's history.")


case_json_option = json_option(help="Print the case as one JSON object.")
quiet_option = click.option("--quiet", is_flag=True, help="Do not send the organisation an acknowledgement.")


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


# --- the Compact Working Group's report ------------------------------------------------------------
@cli.command()
@config_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="DATE",
              help="First day of the period (default: the first day of the month 11 months ago).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="DATE",
              help="Last day of the period (default: today).")
@click.option("--letters", "letters", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of letters whose manifest.jsonl lists the notices; repeat for more.")
@click.option("--anonymise", is_flag=True, help='Name organisations "Organisation A, B, ..." (for a public forum).')
@out_option(default="report")
def report(start: datetime | None, end: datetime | None, letters: tuple[Path, ...], anonymise: bool,
           out_dir: Path) -> None:
    """Write the Compact Working Group's report on disputes and notices.

    report.html is one accessible page (charts as inline SVG, each with its finding in words and
    the table of its numbers; no scripts, nothing fetched), report.pdf the same page as a tagged
    PDF/UA-1, and report.json every figure shown. The period is the last 12 months unless --from
    and --to say otherwise. Case deadlines come from the configuration's [cases.deadlines] table
    (default: stage 1, 10 working days; stage 2, 20).

    \b
    Example:
      compact-docs report --config compact.toml --letters letters/2026 -o report
      compact-docs report --config compact.toml --from 2026-04-01 --to 2027-03-31 --anonymise -o public
    """
    from compact_docs.report import Period, report_from_register, today_in_london

    config = _mail_config()
    last = end.date() if end is not None else today_in_london()
    period = Period(start.date(), last) if start is not None else Period.last_months(12, last)
    if period.start > period.end:
        raise click.UsageError(f"--from {period.start} is after --to {period.end}")
    made, files = report_from_register(
        config.database_path, config.compact_profile, out_dir, letters=letters, period=period,
        deadlines=config.cases.deadline_days(), anonymise=anonymise)
    click.echo(f"Wrote {files.html}, {files.pdf} and {files.json}: {len(made.figures)} figures, "
               f"{len(made.charts)} of them charts, {made.period.describe()}.")


# --- doctor ----------------------------------------------------------------------------------------
@cli.command()
@config_option
@json_option(help="Print the checks as a JSON array.")
def doctor(as_json: bool) -> None:
    """Check the set-up: PDF engine, font subsetting, fonts, profiles and the mail servers.

    With a mail configuration (--config, $COMPACT_CONFIG or ./compact.toml) it also logs in to
    the IMAP mailbox, looks for the stage folders and connects to the SMTP server, and says what
    is wrong in plain words. Exits 1 when something is a problem.

    \b
    Example:
      compact-docs doctor
      compact-docs doctor --config compact.toml --json
    """
    from mailflows.config import load_config
    from mailflows.connections import doctor_checks

    checks = doctor_checks(load_config(_config_path(), required=False))
    _show(as_json, [check.to_dict() for check in checks], (check.line() for check in checks))
    if any(check.status == "problem" for check in checks):
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="compact-docs")


if __name__ == "__main__":
    main()
