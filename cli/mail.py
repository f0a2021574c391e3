"""The mail commands: classify, route, evaluate, train, watch, and the outbox of acknowledgements."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from cli._options import config_option, json_option
from cli._output import (
    CompactGroup,
    _config_path,
    _mail_config,
    _open_register,
    _print_json,
    _print_json_line,
    _print_lines,
    _show,
)


@click.group(cls=CompactGroup)
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
