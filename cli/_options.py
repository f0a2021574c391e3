"""The options several commands share, each declared once; a command words its own help where it differs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import click

from compact_docs.kinds import KINDS


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


F = TypeVar("F", bound=Callable[..., object])


def reason_option(what: str, *, required: bool = True) -> Callable[[F], F]:
    """--reason: why a change is made, kept in the case's history."""
    if required:  # no default at all: click treats an explicit default=None as a value given
        return click.option("--reason", required=True, help=f"Why {what}; kept in the case's history.")
    return click.option("--reason", default="", help=f"Why {what}; kept in the case's history.")


case_json_option = json_option(help="Print the case as one JSON object.")
quiet_option = click.option("--quiet", is_flag=True, help="Do not send the organisation an acknowledgement.")
