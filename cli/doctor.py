"""doctor: check the set-up (PDF engine, fonts, profiles, mail servers)."""

from __future__ import annotations

import sys

import click

from cli._options import config_option, json_option
from cli._output import _config_path, _show


@click.command()
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
