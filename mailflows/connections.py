"""The mail accounts a configuration names, and the doctor's checks that they can be reached."""

from __future__ import annotations

import ssl
from collections.abc import Mapping

from compact_docs.doctor import SetupCheck, setup_checks
from compact_docs.errors import ConfigError, Disconnected, MailError
from compact_docs.rules.disputes import DISPOSITIONS
from mailflows.config import MailConfig
from mailflows.servers.imap import ImapAccount, ImapConnection
from mailflows.servers.smtp import SmtpAccount, SmtpConnection


def imap_account(config: MailConfig) -> ImapAccount:
    """The IMAP account of ``[mail.imap]``; ConfigError when the table is missing."""
    imap = config.mail.imap
    if imap is None:
        raise ConfigError(f"{config.source}: no [mail.imap] table: the watcher needs a mailbox "
                          "(host, username, password_env)")
    return ImapAccount(
        host=imap.host, username=imap.username, security=imap.security, port=imap.port,
        password_env=imap.password_env, oauth2_token_env=imap.oauth2_token_env,
        oauth2_token_command=imap.oauth2_token_command, inbox=imap.inbox,
        timeout=imap.timeout_seconds)


def smtp_account(config: MailConfig) -> SmtpAccount | None:
    """The SMTP account of ``[mail.smtp]``, or None when acknowledgements are not configured."""
    smtp = config.mail.smtp
    if smtp is None:
        return None
    return SmtpAccount(
        host=smtp.host, sender=smtp.sender, security=smtp.security, port=smtp.port,
        username=smtp.username, password_env=smtp.password_env,
        oauth2_token_env=smtp.oauth2_token_env, oauth2_token_command=smtp.oauth2_token_command,
        timeout=smtp.timeout_seconds)


def destination_folders(config: MailConfig) -> list[str]:
    """The folder of every disposition, in the order of the dispositions, without repeats."""
    return list(dict.fromkeys(config.mail.folders.for_disposition(d) for d in DISPOSITIONS))


def check_imap(config: MailConfig, *, environ: Mapping[str, str] | None = None,
               ssl_context: ssl.SSLContext | None = None) -> list[SetupCheck]:
    """Log in to the mailbox, open the inbox and look for the stage folders; say what is wrong."""
    if config.mail.imap is None:
        return [SetupCheck("IMAP", "warning", "no [mail.imap] table: `mail watch` cannot run")]
    account = imap_account(config)
    where = f"{account.username} at {account.host}:{account.effective_port} ({account.security})"
    try:
        with ImapConnection(account, environ=environ, ssl_context=ssl_context) as connection:
            state = connection.select_folder(account.inbox)
            existing = set(connection.list_folders())
            moves = connection.has_capability("MOVE") or connection.has_capability("UIDPLUS")
            idle = connection.has_capability("IDLE")
    except Disconnected as exc:
        return [SetupCheck("IMAP", "problem", f"cannot reach {where}: {exc}")]
    except MailError as exc:
        return [SetupCheck("IMAP", "problem", f"{where}: {exc}")]
    found = [SetupCheck("IMAP", "ok", f"logged in as {where}; {account.inbox} holds "
                        f"{state.exists} message(s)")]
    missing = [f for f in destination_folders(config) if f not in existing]
    if missing:
        found.append(SetupCheck("IMAP folders", "warning", "not there yet (the watcher creates them): "
                                + ", ".join(missing)))
    else:
        found.append(SetupCheck("IMAP folders", "ok", "every stage folder exists"))
    if not moves:
        found.append(SetupCheck("IMAP moves", "problem", "the server offers neither MOVE nor "
                                "UIDPLUS: messages cannot be moved safely"))
    if not idle:
        found.append(SetupCheck("IMAP IDLE", "warning", "the server does not offer IDLE: "
                                "`mail watch` cannot wait for new mail; use --once on a timer"))
    return found


def check_smtp(config: MailConfig, *, environ: Mapping[str, str] | None = None,
               ssl_context: ssl.SSLContext | None = None) -> list[SetupCheck]:
    """Connect (and log in, if configured) to the SMTP server; say what is wrong."""
    account = smtp_account(config)
    if account is None:
        return [SetupCheck("SMTP", "ok", "no [mail.smtp] table: no acknowledgements are sent")]
    where = f"{account.host}:{account.effective_port} ({account.security})"
    try:
        with SmtpConnection(account, environ=environ, ssl_context=ssl_context):
            pass
    except Disconnected as exc:
        return [SetupCheck("SMTP", "problem", f"cannot reach {where}: {exc}")]
    except MailError as exc:
        return [SetupCheck("SMTP", "problem", f"{where}: {exc}")]
    login = f" as {account.username}" if account.username else " (no login)"
    return [SetupCheck("SMTP", "ok", f"connected to {where}{login}; acknowledgements come from "
                       f"{account.sender}")]


def connection_checks(config: MailConfig, *, environ: Mapping[str, str] | None = None,
                      ssl_context: ssl.SSLContext | None = None) -> list[SetupCheck]:
    """The doctor's mail checks for a configuration: the IMAP mailbox, then SMTP."""
    return (check_imap(config, environ=environ, ssl_context=ssl_context)
            + check_smtp(config, environ=environ, ssl_context=ssl_context))


def doctor_checks(config: MailConfig | None) -> list[SetupCheck]:
    """Everything `doctor` looks at: this machine's set-up, then, with a configuration, its servers."""
    return setup_checks() + (connection_checks(config) if config is not None else [])
