"""The accounts a configuration names, and `compact-docs doctor` trying them against real servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers import PASSWORD, MailUser, free_port
from smtp_server import SmtpServer
from testdata import MAIL
from watching import PASSWORD_ENV, write_config

from cli import cli
from compact_docs.errors import ConfigError
from mailflows.config import parse_config, require_config
from mailflows.connections import destination_folders, imap_account, smtp_account


def test_accounts_from_the_configuration(tmp_path: Path) -> None:
    config = parse_config("""
        [mail.imap]
        host = "outlook.office365.com"
        username = "disputes@bvsc.example"
        oauth2_token_command = "get-token --tenant bvsc"
        [mail.smtp]
        host = "smtp.office365.com"
        username = "disputes@bvsc.example"
        oauth2_token_env = "COMPACT_SMTP_TOKEN"
        from = "disputes@bvsc.example"
        [mail.folders]
        ignored = "Disputes/Needs triage"
    """, "compact.toml", tmp_path)
    imap = imap_account(config)
    assert (imap.security, imap.effective_port, imap.oauth2_token_command) == ("tls", 993, "get-token --tenant bvsc")
    smtp = smtp_account(config)
    assert smtp is not None
    assert (smtp.security, smtp.effective_port, smtp.oauth2_token_env) == ("starttls", 587, "COMPACT_SMTP_TOKEN")
    # Two dispositions may share a folder; it is created once.
    assert destination_folders(config).count("Disputes/Needs triage") == 1
    with pytest.raises(ConfigError, match=r"no \[mail.imap\] table"):
        imap_account(require_config(MAIL / "compact.toml"))


def test_the_watch_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="idle_renew_minutes"):
        parse_config("[mail.watch]\nidle_renew_minutes = 45\n", "compact.toml", tmp_path)
    with pytest.raises(ConfigError, match="batch"):
        parse_config("[mail.watch]\nbatch = 10\n", "compact.toml", tmp_path)


def test_doctor_without_a_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPACT_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    names = [check["name"] for check in json.loads(result.output)]
    assert "PDF engine" in names and "IMAP" not in names


def test_doctor_logs_in_and_connects(tmp_path: Path, mail_user: MailUser, smtp_server: SmtpServer) -> None:
    config = write_config(tmp_path, mail_user, smtp_port=smtp_server.port)
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config)], env={PASSWORD_ENV: PASSWORD})
    lines = result.output.splitlines()
    assert any(line.startswith("ok") and "IMAP:" in line and mail_user.name in line for line in lines)
    assert any(line.startswith("warning") and "IMAP folders" in line for line in lines)  # made later
    assert any(line.startswith("ok") and "SMTP:" in line for line in lines)
    assert result.exit_code == 0, result.output


def test_doctor_says_what_is_wrong_in_plain_words(tmp_path: Path, mail_user: MailUser) -> None:
    config = write_config(tmp_path, mail_user, smtp_port=free_port())
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config), "--json"],
                                env={PASSWORD_ENV: "wrong-horse-battery"})
    assert result.exit_code == 1
    assert "wrong-horse-battery" not in result.output
    checks = {check["name"]: check for check in json.loads(result.output)}
    assert checks["IMAP"]["status"] == "problem" and "logging in" in checks["IMAP"]["detail"]
    assert checks["SMTP"]["status"] == "problem" and "cannot reach" in checks["SMTP"]["detail"]

    result = CliRunner().invoke(cli, ["doctor", "--config", str(config)], env={PASSWORD_ENV: None})
    assert f"the environment variable {PASSWORD_ENV} (password_env) is not set" in result.output
