"""The compact-docs command line: thin click commands, each calling one library function.

The root group and `main` are here; the commands live one module per group (letters, mail, cases,
report, doctor), with the options they share in _options and the output helpers in _output.
"""

from __future__ import annotations

import click

from cli import cases, doctor, letters, mail, report
from cli._output import CompactGroup

__all__ = ["CompactGroup", "cli", "main"]


@click.group(cls=CompactGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compact-docs")
def cli() -> None:
    """Letters checked against a local Compact, and a dispute mailbox that loses nothing.

    \b
    Example:
      compact-docs demo -o letters
      compact-docs check notice notice.yaml
    """


for _command in (*letters.COMMANDS, mail.mail, cases.cases, report.report, doctor.doctor):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="compact-docs")
