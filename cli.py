"""The compact-docs command line: thin click commands, each calling one library function."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from compact_docs.errors import CompactError
from compact_docs.kinds import KINDS


class CompactGroup(click.Group):
    """A click group that prints a CompactError as one clear line and exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
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


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _print_report(report: Any) -> None:
    """A short readable compliance report."""
    status = "compliant" if report.compliant else "NOT compliant"
    click.echo(f"{report.kind} letter, {report.profile} profile: {status}")
    for name, value in report.dates.items():
        click.echo(f"  {name.replace('_', ' ')}: {value:%a %d %b %Y}")
    for finding in report.findings:
        click.echo(f"  [{finding.severity}] {finding.code} ({finding.clause})")
        click.echo(f"      {finding.message}")
    if not report.findings:
        click.echo("  no findings")


kind_argument = click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
data_argument = click.argument("data", type=click.Path(dir_okay=False, path_type=Path))


@click.group(cls=CompactGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compact-docs")
def cli() -> None:
    """Letters checked against a local Compact, and a dispute mailbox that loses nothing.

    \b
    Example:
      compact-docs demo -o letters
      compact-docs check notice notice.yaml
    """


# --- foundation: checks, schemas, profiles ------------------------------------------------------


@cli.command()
@kind_argument
@data_argument
@click.option("--profile", "profile", default=None,
              help="A bundled profile name (bexley, national) or a path to a profile .toml file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def check(kind: str, data: Path, profile: str | None, as_json: bool) -> None:
    """Check a letter's data against the Compact without writing it.

    Exit 0 when compliant, 1 when not, 2 when the data or profile is bad.

    \b
    Example:
      compact-docs check notice notice.yaml --json
    """
    from compact_docs.checks import check as run_check

    report = run_check(data, kind, profile)
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_report(report)
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
    from compact_docs.profile import bundled_profile_names, load_profile

    for name in bundled_profile_names():
        profile = load_profile(name)
        click.echo(f"{name:<10} {profile.name} ({profile.area})")


@profiles.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the whole profile as JSON.")
def profiles_show(name: str, as_json: bool) -> None:
    """Show a profile's rules: notice, deemed service, dispute stages and bodies.

    NAME is a bundled profile name or a path to a profile .toml file.

    \b
    Example:
      compact-docs profiles show bexley
    """
    from compact_docs.dates import describe_period
    from compact_docs.profile import load_profile

    p = load_profile(name)
    if as_json:
        _print_json(p.model_dump(mode="json"))
        return
    d = p.deemed_service
    click.echo(f"{p.name} [{p.id}]  ({p.area}; bank holidays: {p.jurisdiction})")
    click.echo(f"Funder notice: {describe_period(p.notice.length, p.notice.unit)} in writing for "
               f"{', '.join(p.notice.applies_to)} ({p.cite(p.notice.clause)})")
    click.echo(f"VCO service-change notice: "
               f"{describe_period(p.service_notice.length, p.service_notice.unit)} "
               f"({p.cite(p.service_notice.clause)})")
    click.echo(f"Deemed given: email/hand before {d.cutoff:%H:%M} on a working day; first-class "
               f"post +{d.first_class_post_working_days} working days; second-class post "
               f"+{d.second_class_post_working_days}")
    click.echo(f"Equality Impact Assessment for: {', '.join(p.eia.applies_to)} "
               f"({p.cite(p.eia.clause)})")
    if p.funding_term:
        click.echo(f"Funding term: at least {p.funding_term.min_years} years "
                   f"({p.funding_term.strategic_min_years} for strategic partners)")
    click.echo(f"Case references: {p.case_prefix}-YYYY-NNNN")
    click.echo("Dispute stages:")
    for stage in p.dispute.stages:
        click.echo(f"  {stage.number}. {stage.name} (entry: {stage.entry}): {stage.summary}")
    click.echo("Bodies:")
    for body in p.bodies:
        click.echo(f"  {body.id}: {body.name}" + (f" <{body.email}>" if body.email else ""))


# --- letters: one command per kind, demo, templates (issue 3) -----------------------------------


_KIND_HELP = {
    "notice": "a funder's notice that funding will end, be reduced or be varied",
    "service-change": "a voluntary organisation's notice of a change to its service",
    "funding-end-plan": "a voluntary organisation's plan for the end of its funding",
    "escalation": "a dispute letter for stage 1, 2 or 3 of the Compact's conflict resolution",
    "agreement": "a signatory agreement to the Compact",
}


def _print_findings(report: Any) -> None:
    """Each finding on stderr, one line of code and clause, one of message."""
    for finding in report.findings:
        click.echo(f"{finding.severity}: {finding.code} ({finding.clause}): {finding.message}",
                   err=True)


def _letter_command(kind: str) -> click.Command:
    """The `compact-docs KIND DATA` command for one letter kind."""

    @click.command(name=kind, help=f"""Write {_KIND_HELP[kind]} as DOCX and PDF.

    DATA is a YAML or JSON file. The letter is checked against the Compact first: with an error
    finding nothing is written, the findings are printed and the exit code is 1. Warnings are
    printed and the letter is written. Prints the files it made.

    \b
    Example:
      compact-docs {kind} {kind}.yaml -o letters --format both
    """)
    @data_argument
    @click.option("-o", "--out", "out_dir", default=".", show_default=True,
                  type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
    @click.option("--format", "output_format", type=click.Choice(["docx", "pdf", "both"]),
                  default="both", show_default=True, help="Which files to make.")
    @click.option("--profile", default=None,
                  help="A bundled profile name or a profile .toml file (default: the data's).")
    @click.option("--archival", is_flag=True,
                  help="Make the PDF PDF/A-3b with the letter's data attached as JSON.")
    @click.option("--templates", "templates", default=None,
                  type=click.Path(file_okay=False, exists=True, path_type=Path),
                  help="A folder of templates that override the bundled ones by name.")
    @click.option("--force", is_flag=True, help="Replace files that already exist.")
    def command(data: Path, out_dir: Path, output_format: str, profile: str | None,
                archival: bool, templates: Path | None, force: bool) -> None:
        from compact_docs.errors import ComplianceError
        from compact_docs.renderer import render

        formats = ("docx", "pdf") if output_format == "both" else (output_format,)
        try:
            result = render(data, formats, out_dir, profile=profile, templates=templates,
                            force=force, archival=archival, kind=kind)
        except ComplianceError as exc:
            if exc.report is not None:
                _print_findings(exc.report)
            raise
        _print_findings(result.report)
        for path in result.files:
            click.echo(str(path))

    return command


for _kind in KINDS:
    cli.add_command(_letter_command(_kind))


@cli.command()
@click.option("-o", "--out", "out_dir", default="letters", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
def demo(out_dir: Path) -> None:
    """Write every letter kind (and every escalation stage) from the bundled examples.

    Each letter is written as DOCX and PDF, with the kind in its file name, and recorded in the
    folder's manifest.jsonl. Running it again replaces the demo's own letters (and only those).

    \b
    Example:
      compact-docs demo -o letters
    """
    from compact_docs.renderer import render_examples

    for result in render_examples(out_dir, force=True):
        for path in result.files:
            click.echo(str(path))


@cli.command()
@click.option("-o", "--out", "out_dir", default="examples", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def examples(out_dir: Path, force: bool) -> None:
    """Copy the bundled example data files (one per kind and escalation stage) to start from.

    Edit a copy, check it, then write the letter.

    \b
    Example:
      compact-docs examples -o data
      compact-docs check notice data/notice.yaml
    """
    from compact_docs.examples import write_examples

    for path in write_examples(out_dir, force=force):
        click.echo(str(path))


@cli.group(cls=CompactGroup)
def templates() -> None:
    """List the letter templates in use, and lint your own.

    \b
    Example:
      compact-docs templates list --templates my-templates
      compact-docs templates lint my-templates
    """


@templates.command("list")
@click.option("--templates", "folder", default=None,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A folder of templates that override the bundled ones by name.")
def templates_list(folder: Path | None) -> None:
    """Show which template lays out each letter kind in each format, and where it comes from.

    \b
    Example:
      compact-docs templates list --templates my-templates
    """
    from compact_docs.template_folder import TemplateFolder, templates_in_use

    for choice in templates_in_use(TemplateFolder(folder), KINDS):
        kind = choice.kind + (f" stage {choice.stage}" if choice.stage else "")
        click.echo(f"{kind:<20} {choice.output_format:<5} {choice.template.name:<24} "
                   f"{choice.template.origin}")


@templates.command("lint")
@click.argument("folder", required=False,
                type=click.Path(file_okay=False, exists=True, path_type=Path))
def templates_lint(folder: Path | None) -> None:
    """Check templates for Jinja syntax errors and names the letter data does not provide.

    FOLDER defaults to the bundled templates. Prints one line per problem (file, line or DOCX
    paragraph, message) and exits 1 if there is any.

    \b
    Example:
      compact-docs templates lint my-templates
    """
    from compact_docs.templates_lint import lint_folder, linted_names

    problems = lint_folder(folder)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{len(linted_names(folder))} templates, no problems")



# --- batch (issue 4) -----------------------------------------------------------------------------


@cli.command()
@kind_argument
@click.argument("rows", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", default="letters", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option("--format", "output_format", type=click.Choice(["docx", "pdf", "both"]),
              default="both", show_default=True, help="Which files to make.")
@click.option("--defaults", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A YAML or JSON file of values shared by every row (the funder, the decision...).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes laying out letters [default: the number of cores].")
@click.option("--calendar", is_flag=True,
              help="Also write deadlines.ics with each letter's response deadline and effective date.")
@click.option("--profile", default=None,
              help="A bundled profile name or a profile .toml file (default: each row's).")
@click.option("--templates", "templates", default=None,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A folder of templates that override the bundled ones by name.")
@click.option("--archival", is_flag=True, help="Make PDF/A-3b PDFs with each letter's data attached.")
@click.option("--dates", "date_locale", type=click.Choice(["en-GB", "en-US"]), default="en-GB", show_default=True,
              help="How a date such as 01/04/2025 is read: day first (en-GB) or month first; ISO dates always work.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def batch(kind: str, rows: Path, out_dir: Path, output_format: str, defaults: Path | None,
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
    from compact_docs.batch import RowResult, run_batch

    formats = ("docx", "pdf") if output_format == "both" else (output_format,)
    progress = None
    task = None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(TextColumn("letters"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            transient=True)

    def on_start(total: int) -> None:
        nonlocal task
        if progress is not None:
            progress.start()
            task = progress.add_task("letters", total=total)

    def on_result(result: RowResult) -> None:
        if progress is not None and task is not None:
            progress.advance(task)

    try:
        summary = run_batch(rows, kind, out_dir, formats=formats, defaults=defaults, workers=workers,
                            profile=profile, templates=templates, force=force, archival=archival,
                            calendar=calendar, date_locale="en-US" if date_locale == "en-US" else "en-GB",
                            on_start=on_start, on_result=on_result)
    finally:
        if progress is not None:
            progress.stop()
    for result in summary.results:
        if result.status == "refused":
            lines = result.reason.splitlines() or [""]
            click.echo(f"row {result.row}: refused: {lines[0]}", err=True)
            for line in lines[1:]:
                click.echo(f"    {line}", err=True)
    files = sum(len(r.files) for r in summary.results if r.status == "written")
    made = f", {summary.already_made} already made" if summary.already_made else ""
    click.echo(f"{summary.written} of {len(summary.results)} rows written ({files} files){made} to {out_dir}; "
               f"report: {summary.report_csv}" + (f"; calendar: {summary.calendar}" if summary.calendar else ""))
    sys.exit(0 if summary.refused == 0 else 1)


# --- mail and cases (issues 5 and 6) -------------------------------------------------------------

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


def _caseworker() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "caseworker"


def _print_decision(decision: Any) -> None:
    """One routed or classified message as a few readable lines."""
    case = decision.case_ref or "no case"
    who = decision.organisation or "unknown organisation"
    if decision.commissioned is not None:
        who += " (commissioned)" if decision.commissioned else " (not commissioned)"
    click.echo(f"{decision.disposition:<13} {case:<15} {who}  {decision.message_id}")
    for reason in decision.reasons:
        click.echo(f"    - {reason}")


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
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
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
    if as_json:
        _print_json(decision.to_dict())
    else:
        _print_decision(decision)


@mail.command("route")
@click.option("--mbox", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An mbox file to route.")
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A Maildir folder to route.")
@config_option
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per message, one per line, in order.")
def mail_route(mbox: Path | None, maildir: Path | None, as_json: bool) -> None:
    """Route every message of a mailbox into the case register, in order.

    Opens, joins and escalates cases as the Compact's rules say. Running it again over the same
    mailbox changes nothing: a message already recorded is recognised by its Message-ID.

    \b
    Example:
      compact-docs mail route --mbox disputes.mbox --config compact.toml --json
    """
    from mailflows.config import require_config
    from mailflows.route import route_mailbox

    if (mbox is None) == (maildir is None):
        raise click.UsageError("give exactly one of --mbox FILE or --maildir DIR")
    counts: dict[str, int] = {}
    for decision in route_mailbox(require_config(_config_path()), mbox=mbox, maildir=maildir):
        if as_json:
            click.echo(json.dumps(decision.to_dict(), ensure_ascii=False))
            continue
        key = "already recorded" if decision.already_recorded else decision.disposition
        counts[key] = counts.get(key, 0) + 1
        if not decision.already_recorded:
            _print_decision(decision)
    if not as_json:
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no messages"
        click.echo(f"Routed: {summary}")


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
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per message, one per line, in order.")
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
    import logging
    import threading

    from mailflows.config import require_config
    from mailflows.watch import stop_on_signals, watch_mailbox

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("mailflows.watch")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def show(watched: Any) -> None:
        if as_json:
            click.echo(json.dumps(watched.to_dict(), ensure_ascii=False))

    try:
        with stop_on_signals(threading.Event()) as stop:
            summary = watch_mailbox(require_config(_config_path()), once=once, on_message=show,
                                    stop=stop)
    finally:
        logger.removeHandler(handler)
    if not as_json:
        click.echo(summary.line())


@mail.command("outbox")
@config_option
@click.option("--all", "include_sent", is_flag=True, help="List sent acknowledgements too.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of outbox entries.")
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
    from mailflows.config import require_config
    from mailflows.outbox import Outbox
    from mailflows.route import open_register

    with open_register(require_config(_config_path()), readonly=True) as register:
        outbox = Outbox(register)
        entries = outbox.entries(include_sent=include_sent)
        anything = bool(entries) or outbox.queued_ever()
    if as_json:
        _print_json([e.to_dict() for e in entries])
        return
    for entry in entries:
        when = entry.sent or entry.given_up or f"next {entry.next_attempt or ''}"
        click.echo(f"{entry.id:>5}  {entry.state:<11}  {when[:19]:<19}  {entry.case_ref or 'no case':<15} "
                   f"{', '.join(entry.recipients)}  (attempts: {entry.attempts})")
        if entry.last_error:
            click.echo(f"       {entry.last_error}")
    if not entries:
        click.echo("Every acknowledgement has been sent." if anything else "The outbox is empty.")


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
    from compact_docs.errors import MailError
    from mailflows.config import require_config
    from mailflows.outbox import Outbox
    from mailflows.route import open_register

    if bool(ids) == every_given_up:
        raise click.UsageError("name the outbox entries to retry, or give --given-up (not both)")
    config = require_config(_config_path())
    if not config.database_path.exists():
        raise MailError(f"there is no case register at {config.database_path} yet, so nothing to retry")
    with open_register(config) as register:
        retried = Outbox(register).retry(ids, every_given_up=every_given_up)
    for entry in retried:
        click.echo(f"{entry.id:>5}  due again: {', '.join(entry.recipients)} ({entry.case_ref or 'no case'})")
    if not retried:
        click.echo("Nothing was given up.")
        return
    one = len(retried) == 1
    click.echo(f"{len(retried)} acknowledgement{'' if one else 's'} due again; `compact-docs mail watch` "
               f"sends {'it' if one else 'them'} when it next delivers.")


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


_by_option = click.option("--by", "actor", default=None, metavar="NAME",
                          help="Who makes the change (default: your user name).")


def _reason_option(what: str, *, required: bool = True) -> Callable[[_Command], _Command]:
    if required:  # no default at all: click treats an explicit default=None as a value given
        return click.option("--reason", required=True, help=f"Why {what}; kept in the case's history.")
    return click.option("--reason", default="", help=f"Why {what}; kept in the case's history.")


_Command = TypeVar("_Command", bound=Callable[..., Any])
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the case as one JSON object.")


def _deadlines(config: Any) -> Any:
    from compact_docs.case_deadlines import CaseDeadlines

    return CaseDeadlines.for_profile(config.compact_profile, config.cases.deadline_days())


def _case_line(case: Any, deadlines: Any, today: Any) -> str:
    who = case.organisation or f"unknown ({case.sender or 'no address'})"
    due = deadlines.due(case)
    late = "  OVERDUE" if deadlines.is_overdue(case, today) else ""
    owner = f"  [{case.owner}]" if case.owner else ""
    when = (case.received or case.opened)[:10]
    return (f"{case.ref}  stage {case.stage}  {case.status:<6}  received {when}"
            + (f"  due {due.isoformat()}" if due else "") + f"{late}{owner}  {who}: {case.topic}")


def _changed(case: Any, config: Any, as_json: bool, said: str) -> None:
    """Print a case after a change: its JSON object, or one line."""
    if as_json:
        deadlines = _deadlines(config)
        _print_json(deadlines.to_dict(case, deadlines.today()))
    else:
        click.echo(said)


@cases.command("list")
@click.option("--stage", type=click.IntRange(1, 9), default=None, help="Only cases at this stage.")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of cases.")
def cases_list(stage: int | None, as_json: bool) -> None:
    """List the cases in the register, oldest first, with when their mail came and when they are due.

    The JSON objects carry owner, received (the first message's date), stage_since, due (the
    last working day at the stage, from [cases.deadlines]) and overdue.

    \b
    Example:
      compact-docs cases list --stage 2 --json --config compact.toml
    """
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    deadlines = _deadlines(config)
    today = deadlines.today()
    with open_register(config, readonly=True) as register:
        found = register.cases(stage=stage)
    if as_json:
        _print_json([deadlines.to_dict(c, today) for c in found])
        return
    for case in found:
        click.echo(_case_line(case, deadlines, today))
    if not found:
        click.echo("No cases.")


@cases.command("show")
@click.argument("ref")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the case and its history as JSON.")
def cases_show(ref: str, as_json: bool) -> None:
    """Show a case: its stage, organisation, owner, dates, messages and history (who, when, why).

    \b
    Example:
      compact-docs cases show BXC-2026-0007 --config compact.toml
      compact-docs cases show BXC-2026-0007 --json --config compact.toml
    """
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    deadlines = _deadlines(config)
    today = deadlines.today()
    with open_register(config, readonly=True) as register:
        case = register.require_case(ref)
        events = register.events(case.ref)
    if as_json:
        _print_json({**deadlines.to_dict(case, today), "events": [e.to_dict() for e in events]})
        return
    stage = config.compact_profile.stage(case.stage)
    click.echo(f"{case.ref}: {case.topic}")
    click.echo(f"  stage {case.stage}, {stage.name} ({case.status})"
               + (f", merged into {case.merged_into}" if case.merged_into else ""))
    commissioned = {True: "commissioned", False: "not commissioned", None: "unknown"}
    click.echo(f"  organisation: {case.organisation or 'unknown'} "
               f"({commissioned[case.commissioned]}); sender {case.sender or 'unknown'}")
    click.echo(f"  owner: {case.owner or 'nobody yet'}")
    click.echo(f"  first message {case.received or case.opened}; opened {case.opened}; updated {case.updated}")
    due = deadlines.due(case)
    if due is not None:
        late = " (OVERDUE)" if deadlines.is_overdue(case, today) else ""
        click.echo(f"  at stage {case.stage} since {(case.stage_since or case.opened)[:10]}; due {due}{late}")
    if case.outcome:
        click.echo(f"  outcome: {case.outcome}")
    click.echo("  messages: " + (", ".join(case.message_ids) or "none"))
    click.echo("History:")
    for event in events:
        click.echo(f"  {event.at}  {event.kind:<10} stage {event.stage}  {event.actor}: {event.reason}")


@cases.command("triage")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the waiting messages.")
def cases_triage(as_json: bool) -> None:
    """List the messages waiting for a person (needs-triage), oldest first, with the router's reasons.

    Open a case from one with `cases open`, or add it to a case with `cases attach`; moving it in
    the mailbox from the triage folder into a stage folder does the same.

    \b
    Example:
      compact-docs cases triage --config compact.toml
      compact-docs cases open "<abc@agewell.example>" --organisation "Bexley Age Well" --reason "A dispute"
    """
    from compact_docs.casework import triage_queue
    from mailflows.config import require_config
    from mailflows.route import open_register

    with open_register(require_config(_config_path()), readonly=True) as register:
        waiting = triage_queue(register)
    if as_json:
        _print_json([{"message_id": m.message_id, "received": m.received or m.recorded, "subject": m.subject,
                      "sender": m.sender, "organisation": m.organisation, "commissioned": m.commissioned,
                      "case_ref": m.case_ref, "reasons": list(m.reasons)} for m in waiting])
        return
    for message in waiting:
        who = message.organisation or message.sender or "unknown sender"
        click.echo(f"{(message.received or message.recorded)[:16]}  {message.message_id}  {who}: "
                   f"{message.subject or '(no subject)'}")
        for reason in message.reasons:
            click.echo(f"    - {reason}")
    if not waiting:
        click.echo("Nothing waits for triage.")


@cases.command("open")
@click.argument("message_id", metavar="MESSAGE-ID")
@click.option("--organisation", default=None,
              help="The organisation the case is for (default: the one the router recognised).")
@click.option("--commissioned/--not-commissioned", default=None,
              help="Whether the organisation is commissioned (default: from the organisations directory).")
@click.option("--stage", type=click.IntRange(1, 9), default=None,
              help="The stage to open at (default: 1 for a commissioned organisation, else 2).")
@_reason_option("the case is opened")
@_by_option
@config_option
@_json_option
def cases_open(message_id: str, organisation: str | None, commissioned: bool | None, stage: int | None,
               reason: str, actor: str | None, as_json: bool) -> None:
    """Open a case from a recorded message the router did not make one of (triage or ignored).

    Recorded as a correction of the router, kept with the message for `mail train`.

    \b
    Example:
      compact-docs cases open "<abc@agewell.example>" --organisation "Bexley Age Well" --reason "Late payment dispute"
    """
    from compact_docs.casework import open_from_message
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    entry = config.organisation_named(organisation) if organisation else None
    if commissioned is None and entry is not None:
        commissioned = entry.commissioned
    with open_register(config) as register:
        case = open_from_message(register, message_id, organisation=organisation, commissioned=commissioned,
                                 stage=stage, actor=actor or _caseworker(), reason=reason)
    who = case.organisation or "an unknown organisation"
    _changed(case, config, as_json, f"{case.ref} opened at stage {case.stage} for {who}.")


@cases.command("attach")
@click.argument("message_id", metavar="MESSAGE-ID")
@click.argument("ref")
@_reason_option("the message belongs to the case")
@_by_option
@config_option
@_json_option
def cases_attach(message_id: str, ref: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Add a recorded message that is on no case to a case (a correction of the router).

    \b
    Example:
      compact-docs cases attach "<def@agewell.example>" BXC-2026-0007 --reason "Same invoice, new thread"
    """
    from compact_docs.casework import attach_message
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register:
        case = attach_message(register, message_id, ref, actor=actor or _caseworker(), reason=reason)
    _changed(case, config, as_json, f"The message is now on {case.ref} (stage {case.stage}).")


@cases.command("restage")
@click.argument("ref")
@click.option("--stage", type=click.IntRange(1, 9), default=None, help="The stage the case belongs at.")
@click.option("--organisation", default=None,
              help="Whose case it really is (the router did not know the sender, or guessed wrong).")
@click.option("--commissioned/--not-commissioned", default=None,
              help="With --organisation: whether it is commissioned (default: from the directory).")
@_reason_option("the case belongs at that stage")
@_by_option
@config_option
@_json_option
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
    from compact_docs.casework import correct_organisation, restage
    from mailflows.config import require_config
    from mailflows.route import open_register

    if stage is None and organisation is None:
        raise click.UsageError("give --stage N, --organisation NAME, or both")
    config = require_config(_config_path())
    by = actor or _caseworker()
    with open_register(config) as register, register.transaction():
        if organisation is not None:
            entry = config.organisation_named(organisation)
            if commissioned is None and entry is not None:
                commissioned = entry.commissioned
            correct_organisation(register, ref, organisation, commissioned=commissioned, actor=by, reason=reason)
        case = register.require_case(ref)
        if stage is not None:
            case = restage(register, ref, stage, actor=by, reason=reason)
    name = config.compact_profile.stage(case.stage).name
    who = case.organisation or "an unknown organisation"
    _changed(case, config, as_json, f"{case.ref} is now at stage {case.stage}, {name}, for {who}.")


@cases.command("merge")
@click.argument("ref")
@click.option("--into", "into", required=True, metavar="REF", help="The case to keep.")
@_reason_option("the two cases are one")
@_by_option
@config_option
@_json_option
def cases_merge(ref: str, into: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Merge a duplicate case into another: its messages join the kept case, it is closed as merged.

    \b
    Example:
      compact-docs cases merge BXC-2026-0009 --into BXC-2026-0007 --reason "The same complaint, forwarded"
    """
    from compact_docs.casework import merge_cases
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register:
        case = merge_cases(register, ref, into, actor=actor or _caseworker(), reason=reason)
    _changed(case, config, as_json, f"{ref.upper()} is merged into {case.ref}.")


@cases.command("reopen")
@click.argument("ref")
@_reason_option("the case is reopened")
@_by_option
@config_option
@_json_option
def cases_reopen(ref: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Reopen a closed case at the stage it closed at.

    \b
    Example:
      compact-docs cases reopen BXC-2026-0007 --reason "The invoice was not paid after all"
    """
    from compact_docs.casework import reopen_case
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register:
        case = reopen_case(register, ref, actor=actor or _caseworker(), reason=reason)
    _changed(case, config, as_json, f"{case.ref} is open again at stage {case.stage}.")


@cases.command("note")
@click.argument("ref")
@click.argument("text")
@_by_option
@config_option
@_json_option
def cases_note(ref: str, text: str, actor: str | None, as_json: bool) -> None:
    """Add a note to a case's history (the note's text is its reason).

    \b
    Example:
      compact-docs cases note BXC-2026-0007 "Rang Jo Smith: the invoice is with finance"
    """
    from compact_docs.casework import add_note
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register:
        case = add_note(register, ref, text, actor=actor or _caseworker())
    _changed(case, config, as_json, f"Note added to {case.ref}.")


@cases.command("assign")
@click.argument("ref")
@click.argument("person")
@_reason_option("the case goes to this person", required=False)
@_by_option
@config_option
@_json_option
def cases_assign(ref: str, person: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Say who owns a case (shown in `cases list` and `cases show`).

    \b
    Example:
      compact-docs cases assign BXC-2026-0007 "Priya Shah" --reason "Leads on health contracts"
    """
    from compact_docs.casework import assign_case
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register:
        case = assign_case(register, ref, person, actor=actor or _caseworker(), reason=reason)
    _changed(case, config, as_json, f"{case.ref} is assigned to {case.owner}.")


@cases.command("overdue")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the overdue cases.")
def cases_overdue(as_json: bool) -> None:
    """List the open cases past their stage's deadline, longest overdue first.

    Deadlines are working days per stage from [cases.deadlines] (stage-1 10, stage-2 20 by
    default), not counting weekends and the profile's bank holidays, from the day the case
    reached its stage (for its first stage, the day its first message came).

    \b
    Example:
      compact-docs cases overdue --config compact.toml --json
    """
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    deadlines = _deadlines(config)
    today = deadlines.today()
    with open_register(config, readonly=True) as register:
        late = deadlines.overdue(register.cases(status="open"), today)
    if as_json:
        _print_json([{**deadlines.to_dict(c, today), "working_days_over": deadlines.working_days_over(c, today)}
                     for c in late])
        return
    for case in late:
        click.echo(_case_line(case, deadlines, today)
                   + f"  ({deadlines.working_days_over(case, today)} working day(s) over)")
    if not late:
        click.echo("No case is overdue.")


def _tell_organisation(register: Any, config: Any, ref: str, quiet: bool) -> tuple[Any, str | None]:
    """Queue the acknowledgement of a case's change unless quiet; (the entry, why none)."""
    if quiet:
        return None, "no acknowledgement (--quiet)"
    from mailflows.case_acknowledgement import acknowledge_case_change

    return acknowledge_case_change(register, ref, config)


def _send_now(config: Any, queued: Any, why_not: str | None, *, err: bool = False) -> None:
    """Try to send a queued acknowledgement at once; say what happened to it (on stderr with ``err``)."""
    if queued is None:
        if why_not:
            click.echo(why_not.capitalize() + ".", err=err)
        return
    from mailflows.connections import smtp_account
    from mailflows.outbox import Outbox, deliver
    from mailflows.route import open_register

    account = smtp_account(config)
    assert account is not None
    with open_register(config) as register:
        deliver(Outbox(register), account)
        entry = Outbox(register).by_message_id(queued.message_id)
    to = ", ".join(queued.recipients)
    if entry is not None and entry.sent:
        click.echo(f"Acknowledgement sent to {to}.", err=err)
    else:
        click.echo(f"Acknowledgement to {to} queued; `compact-docs mail watch` sends it"
                   + (f" ({entry.last_error})" if entry is not None and entry.last_error else "") + ".", err=err)


@cases.command("escalate")
@click.argument("ref")
@click.option("--reason", required=True, help="Why the case moves up a stage.")
@_by_option
@click.option("--quiet", is_flag=True, help="Do not send the organisation an acknowledgement.")
@config_option
@_json_option
def cases_escalate(ref: str, reason: str, actor: str | None, quiet: bool, as_json: bool) -> None:
    """Move a case up one stage of the Compact's conflict-resolution process and tell the organisation.

    The organisation who raised the case gets a short acknowledgement of the new stage over
    [mail.smtp] (--quiet not to); the next step is printed.

    \b
    Example:
      compact-docs cases escalate BXC-2026-0007 --reason "A policy decision is needed"
    """
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register, register.transaction():
        case = register.escalate(ref, actor=actor or _caseworker(), reason=reason)
        queued, why_not = _tell_organisation(register, config, case.ref, quiet)
    stage = config.compact_profile.stage(case.stage)
    _changed(case, config, as_json, f"{case.ref} is now at stage {case.stage}, {stage.name}.")
    _send_now(config, queued, why_not, err=as_json)
    to = (f" --to BODY (one or more of: {', '.join(stage.bodies)})"
          if stage.entry == "escalation" and len(stage.bodies) > 1 else "")
    click.echo(f"Next: make the stage-{case.stage} letter: compact-docs cases letter {case.ref}{to}", err=as_json)


@cases.command("close")
@click.argument("ref")
@click.option("--outcome", required=True, help="How the dispute ended.")
@_by_option
@click.option("--quiet", is_flag=True, help="Do not send the organisation an acknowledgement.")
@config_option
@_json_option
def cases_close(ref: str, outcome: str, actor: str | None, quiet: bool, as_json: bool) -> None:
    """Close a case with its outcome and tell the organisation.

    The organisation who raised the case gets a short acknowledgement of the outcome over
    [mail.smtp] (--quiet not to).

    \b
    Example:
      compact-docs cases close BXC-2026-0007 --outcome "Invoice paid on 2 December"
    """
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    with open_register(config) as register, register.transaction():
        case = register.close_case(ref, actor=actor or _caseworker(), outcome=outcome)
        queued, why_not = _tell_organisation(register, config, case.ref, quiet)
    _changed(case, config, as_json, f"{case.ref} is closed at stage {case.stage}.")
    _send_now(config, queued, why_not, err=as_json)
    click.echo(f"Next: if it comes back, compact-docs cases reopen {case.ref} --reason ...", err=as_json)


@cases.command("letter")
@click.argument("ref")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), help="The folder to write the letter to.")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "both"]), default="both",
              help="The file format(s) to write.")
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
@click.option("--force", is_flag=True,
              help="Write it anyway for a closed case or an unknown organisation; overwrite a letter.")
@config_option
def cases_letter(ref: str, out_dir: Path, fmt: str, policy_decision: str | None,
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
    from compact_docs.case_letter import write_case_letter
    from compact_docs.errors import ComplianceError
    from mailflows.config import require_config
    from mailflows.route import open_register

    config = require_config(_config_path())
    formats = ["docx", "pdf"] if fmt == "both" else [fmt]
    with open_register(config, readonly=True) as register:
        case = register.require_case(ref)
        entry = config.organisation_named(organisation or case.organisation)
        try:
            result = write_case_letter(
                register, case.ref, out_dir, formats,
                commissioner=entry.commissioner if entry else None,
                commissioner_body=entry.commissioner_body if entry else None,
                policy_decision=policy_decision, asks=asks, force=force, organisation=organisation,
                voice="organisation" if voice == "organisation" else "dispute-body",
                referred_to=referred_to)
        except ComplianceError as exc:
            if exc.report is not None:
                _print_findings(exc.report)
            raise
    for path in result.files:
        click.echo(str(path))
    for finding in result.report.findings:
        click.echo(f"  [{finding.severity}] {finding.code}: {finding.message}", err=True)


# --- the Compact Working Group's report (issue 16) -----------------------------------------------


@cli.command()
@config_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="DATE",
              help="First day of the period (default: the first day of the month 11 months ago).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="DATE",
              help="Last day of the period (default: today).")
@click.option("--letters", "letters", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of letters whose manifest.jsonl lists the notices; repeat for more.")
@click.option("--anonymise", is_flag=True,
              help='Name organisations "Organisation A, B, ..." (for a public forum).')
@click.option("-o", "--out", "out_dir", default="report", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
def report(start: Any, end: Any, letters: tuple[Path, ...], anonymise: bool, out_dir: Path) -> None:
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
    from compact_docs.report import Period, read_stage_deadlines, report_from_register, today_in_london
    from mailflows.config import require_config

    config = require_config(_config_path())
    last = end.date() if end is not None else today_in_london()
    period = Period(start.date(), last) if start is not None else Period.last_months(12, last)
    if period.start > period.end:
        raise click.UsageError(f"--from {period.start} is after --to {period.end}")
    made, files = report_from_register(
        config.database_path, config.compact_profile, out_dir, letters=letters, period=period,
        deadlines=read_stage_deadlines(config.source), anonymise=anonymise)
    click.echo(f"Wrote {files.html}, {files.pdf} and {files.json}: {len(made.figures)} figures, "
               f"{len(made.charts)} of them charts, {made.period.describe()}.")


# --- doctor --------------------------------------------------------------------------------------


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as a JSON array.")
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
    from compact_docs.doctor import setup_checks
    from mailflows.config import load_config
    from mailflows.connections import connection_checks

    checks = setup_checks()
    config = load_config(_config_path(), required=False)
    if config is not None:
        checks += connection_checks(config)
    if as_json:
        _print_json([check.to_dict() for check in checks])
    else:
        marks = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
        for check in checks:
            click.echo(f"{marks[check.status]:<8} {check.name}: {check.detail}")
    if any(check.status == "problem" for check in checks):
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="compact-docs")


if __name__ == "__main__":
    main()
