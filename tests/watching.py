"""Setting up the IMAP watcher's tests: a configuration for a test mailbox, one run, and counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from servers import PASSWORD, MailUser
from testdata import MAIL

from mailflows.config import MailConfig, require_config
from mailflows.watch import WatchedMessage, watch_mailbox

PASSWORD_ENV = "COMPACT_TEST_IMAP_PASSWORD"
ENVIRON = {PASSWORD_ENV: PASSWORD}
FOLDERS = {
    "stage-1": "Disputes/Stage 1", "stage-2": "Disputes/Stage 2", "stage-3": "Disputes/Stage 3",
    "needs-triage": "Disputes/Needs triage", "ignored": "Disputes/Ignored",
}


def corpus_config_text() -> str:
    """The corpus configuration's organisations (its [mail.*] tables are written per test)."""
    text = (MAIL / "compact.toml").read_text(encoding="utf-8")
    return text[text.index("[[organisations]]"):]


def write_config(folder: Path, user: MailUser, *, folders: dict[str, str] | None = None,
                 smtp_port: int | None = None, watch: dict[str, Any] | None = None,
                 security: str = "none") -> Path:
    """A mail configuration for this user's mailbox on the test Dovecot, with the corpus directory."""
    port = user.server.tls_port if security == "tls" else user.server.port
    lines = ['profile = "bexley"', 'database = "cases.db"', "",
             "[mail.imap]", f'host = "{user.server.host}"', f"port = {port}",
             f'security = "{security}"', f'username = "{user.name}"', f'password_env = "{PASSWORD_ENV}"',
             "", "[mail.folders]"]
    lines += [f'{key} = "{value}"' for key, value in (folders or FOLDERS).items()]
    lines += ["", "[mail.watch]"]
    lines += [f"{key} = {value!r}" for key, value in {"idle_renew_minutes": 9, **(watch or {})}.items()]
    if smtp_port is not None:
        lines += ["", "[mail.smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}",
                  'security = "none"', 'from = "disputes@bvsc.example"']
    path = folder / "compact.toml"
    path.write_text("\n".join(lines) + "\n\n" + corpus_config_text(), encoding="utf-8")
    return path


def watched_inbox(folder: Path, user: MailUser, messages: Iterable[tuple[str, bytes]],
                  **options: Any) -> MailConfig:
    """These (name, raw) messages appended to the user's inbox, and the configuration that watches
    it (`options` as for write_config)."""
    for _name, raw in messages:
        user.append(raw)
    return require_config(write_config(folder, user, **options))


def run_once(config: MailConfig) -> tuple[Any, list[WatchedMessage]]:
    seen: list[WatchedMessage] = []
    summary = watch_mailbox(config, once=True, on_message=seen.append, environ=ENVIRON)
    return summary, seen


def table_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("cases", "events", "case_messages", "messages", "mailbox_journal")}


def folder_counts(user: MailUser, folders: dict[str, str] | None = None) -> dict[str, int]:
    return {d: user.count(f) for d, f in (folders or FOLDERS).items()}
