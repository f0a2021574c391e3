"""What the commands share besides options: errors as one line, printing, and the mail configuration."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli._options import _CONFIG_KEY
from compact_docs.errors import CompactError

if TYPE_CHECKING:
    from compact_docs.register.cases import CaseRegister
    from compact_docs.rendering.batch_report import RowResult
    from compact_docs.rules.checks import Report
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
