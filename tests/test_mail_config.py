"""The mail configuration file: parsing, clear errors, relative paths, and where it is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from compact_docs.errors import ConfigError
from mailflows.config import CONFIG_ENV, MailConfig, find_config, load_config, parse_config, require_config

MAIL = Path(__file__).resolve().parent / "data" / "mail"


def write(tmp_path: Path, text: str, name: str = "compact.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_test_configuration() -> None:
    config = require_config(MAIL / "compact.toml")
    assert config.compact_profile.id == "bexley"
    assert config.database_path == MAIL / "cases.db"
    assert config.mail.smtp is not None and config.mail.smtp.sender == "disputes@bvsc.example"
    assert config.mail.folders.for_disposition("needs-triage") == "Disputes/Needs triage"
    assert len(config.organisations) == 9


def test_design_example_parses(tmp_path: Path) -> None:
    path = write(tmp_path, '''
profile = "bexley"
database = "compact.db"
[mail.imap]
host = "imap.example.org"
port = 993
security = "tls"
username = "disputes@bvsc.example"
password_env = "COMPACT_IMAP_PASSWORD"
inbox = "INBOX"
[mail.folders]
stage-1 = "Disputes/Stage 1"
stage-2 = "Disputes/Stage 2"
stage-3 = "Disputes/Stage 3"
needs-triage = "Disputes/Needs triage"
ignored = "Disputes/Ignored"
[mail.smtp]
host = "smtp.example.org"
port = 587
security = "starttls"
username = "disputes@bvsc.example"
password_env = "COMPACT_SMTP_PASSWORD"
from = "disputes@bvsc.example"
[[organisations]]
name = "Bexley Age Well"
domains = ["agewell.example"]
commissioned = true
commissioner = "commissioning@bexley.example"
''')
    config = require_config(path)
    assert config.mail.imap is not None and config.mail.imap.host == "imap.example.org"
    assert config.database_path == tmp_path / "compact.db"


def test_absolute_database_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "x.db"
    config = require_config(write(tmp_path, f'database = "{target}"\n'))
    assert config.database_path == target


@pytest.mark.parametrize(("text", "message"), [
    ("profile = [", "not valid TOML"),
    ("databse = 'x.db'", "databse"),
    ("[mail.imap]\nhost = 'imap.example.org'\nusername = 'u'\npassword = 'hunter2'\n",
     "never goes in the file"),
    ("[mail.imap]\nhost = 'imap.example.org'\nusername = 'u'\nsecurity = 'none'\n", "loopback"),
    ("[[organisations]]\nname = 'X'\ncommissioned = true\n", "needs at least one of domains"),
    ("[[organisations]]\nname = 'X'\ndomains = ['x.example']\n", "commissioned"),
    ("[phrases]\ndispute = ['  ']\n", "must not be blank"),
])
def test_bad_configurations_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "hunter2" not in str(info.value)


def test_unknown_profile_is_reported(tmp_path: Path) -> None:
    config = require_config(write(tmp_path, 'profile = "atlantis"\n'))
    with pytest.raises(Exception, match="unknown profile 'atlantis'"):
        _ = config.compact_profile


def test_profile_file_relative_to_the_config(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parent.parent / "compact_docs" / "profiles" / "national.toml"
    (tmp_path / "mine.toml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    config = require_config(write(tmp_path, 'profile = "mine.toml"\n', "compact.toml"))
    assert config.compact_profile.id == "national"


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert find_config() == tmp_path / "compact.toml"
    assert load_config(required=False) is None
    with pytest.raises(ConfigError, match="no mail configuration"):
        load_config()
    env_file = write(tmp_path, 'profile = "national"\n', "env.toml")
    monkeypatch.setenv(CONFIG_ENV, str(env_file))
    assert require_config().profile == "national"
    explicit = write(tmp_path, 'profile = "bexley"\n', "explicit.toml")
    assert require_config(explicit).profile == "bexley"
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=CONFIG_ENV):
        load_config(required=False)


def test_organisation_matching() -> None:
    config = require_config(MAIL / "compact.toml")
    org, how = config.organisation_for("Jo.Smith@AgeWell.example") or (None, "")
    assert org is not None and org.name == "Bexley Age Well" and how == "domain agewell.example"
    org, how = config.organisation_for("outreach@mail.agewell.example") or (None, "")
    assert org is not None and org.name == "Bexley Age Well"
    org, how = config.organisation_for("thamesmead.tenants@webmail.example") or (None, "")
    assert org is not None and how == "address thamesmead.tenants@webmail.example"
    assert config.organisation_for("someone@webmail.example") is None
    assert config.organisation_for("evil@notagewell.example") is None
    assert config.organisation_for(None) is None


def test_longest_domain_wins() -> None:
    config = MailConfig.model_validate({"organisations": [
        {"name": "Parent", "domains": ["bexley.example"], "commissioned": True},
        {"name": "Youth", "domains": ["youth.bexley.example"], "commissioned": False},
    ]})
    match = config.organisation_for("a@youth.bexley.example")
    assert match is not None and match[0].name == "Youth"


def test_phrases_from_the_configuration(tmp_path: Path) -> None:
    config = require_config(write(tmp_path, '[phrases]\ndispute = ["clawback"]\n'))
    assert config.signals.find("dispute", "They want a clawback.") == ["clawback"]
    assert config.signals.find("dispute", "a late payment")


def test_default_ports_follow_the_security_mode(tmp_path: Path) -> None:
    from mailflows.config import parse_config
    from mailflows.connections import imap_account, smtp_account

    text = ('[mail.imap]\nhost = "imap.example.org"\nsecurity = "starttls"\nusername = "u"\n'
            '[mail.smtp]\nhost = "smtp.example.org"\nsecurity = "tls"\nfrom = "d@example.org"\n')
    config = parse_config(text, "c.toml", tmp_path)
    assert imap_account(config).effective_port == 143
    assert smtp_account(config).effective_port == 465  # type: ignore[union-attr]


def test_a_stage_folder_may_not_be_the_inbox(tmp_path: Path) -> None:
    import pytest

    from compact_docs.errors import ConfigError
    from mailflows.config import parse_config

    text = ('[mail.imap]\nhost = "imap.example.org"\nusername = "u"\n'
            '[mail.folders]\nignored = "inbox"\n')
    with pytest.raises(ConfigError, match=r"folders\.ignored is the inbox"):
        parse_config(text, "c.toml", tmp_path)


def test_the_readme_example_configuration_loads_and_names_every_table() -> None:
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (MAIL / "compact.example.toml").read_text(encoding="utf-8")
    assert example in readme, "tests/data/mail/compact.example.toml is the README's example"
    config = parse_config(example, "compact.example.toml", MAIL)
    assert config.mail.imap is not None and config.mail.smtp is not None
    assert [o.name for o in config.organisations] == ["Bexley Age Well", "Erith Arts Collective"]
    for table in ("[mail.imap]", "[mail.folders]", "[mail.smtp]", "[mail.watch]", "[[organisations]]",
                  "[phrases]"):
        assert table in example


def test_an_unknown_table_or_key_is_named_in_configuration_words() -> None:
    text = ('[casework]\nx = 1\n[cases.deadline]\nstage-1 = 3\n[mail.foldres]\nstage-1 = "A"\n'
            '[mail.imap]\nhost = "h"\nusernme = "u"\n')
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "compact.toml", MAIL)
    message = str(caught.value)
    assert "letter kind" not in message
    assert "[casework] is not a table of a mail configuration" in message
    assert "[cases.deadline] is not a table of [cases]" in message and "did you mean 'deadlines'?" in message
    assert "[mail.foldres] is not a table of [mail]" in message and "did you mean 'folders'?" in message
    assert "'usernme' is not a key of [mail.imap]" in message and "did you mean 'username'?" in message
