"""The Compact Working Group's report on disputes and notices."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cli._options import config_option, out_option
from cli._output import _mail_config


@click.command()
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
