"""The letter commands: check, schema, new, profiles, one command per kind, demo, examples, templates, batch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli._options import (
    data_argument,
    force_option,
    format_option,
    json_option,
    kind_argument,
    out_option,
    profile_option,
    templates_option,
)
from cli._output import CompactGroup, _print_findings, _print_json, _print_lines, _progress_bar, _show
from compact_docs.kinds import DESCRIPTIONS, KINDS, Kind


# --- checks, schemas, profiles ---------------------------------------------------------------------
@click.command()
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


@click.command()
@kind_argument
def schema(kind: str) -> None:
    """Print the JSON Schema of a letter kind's data file, with a description of every field.

    \b
    Example:
      compact-docs schema notice > notice.schema.json
    """
    from compact_docs.models import model_for

    _print_json(model_for(kind).model_json_schema())


@click.command()
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


@click.group(cls=CompactGroup)
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


@click.command()
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


@click.command()
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


@click.group(cls=CompactGroup)
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
@click.command()
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


COMMANDS: list[click.Command] = [check, schema, new, profiles, *(_letter_command(kind) for kind in KINDS),
                                 demo, examples, templates, batch]
"""The root group's letter commands, in the order they are added."""
