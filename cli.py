"""The compact-docs command line: thin click commands, each calling one library function."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from compact_docs.errors import CompactError
from compact_docs.models import KINDS


class CompactGroup(click.Group):
    """A click group that prints a CompactError as one clear line and exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CompactError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


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
    """Print the JSON Schema of a letter kind's data file.

    \b
    Example:
      compact-docs schema notice > notice.schema.json
    """
    from compact_docs.models import model_for

    _print_json(model_for(kind).model_json_schema())


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


# --- batch (issue 4) -----------------------------------------------------------------------------


# --- mail and cases (issues 5 and 6) -------------------------------------------------------------


# --- doctor --------------------------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="compact-docs")


if __name__ == "__main__":
    main()
