"""The mail configuration file (TOML): profile, case register, IMAP, folders, SMTP and organisations."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compact_docs.errors import ConfigError
from compact_docs.rules.profile import Profile, load_profile
from compact_docs.validation import describe_validation_error
from mailflows.servers.credentials import Security, is_loopback
from mailflows.signals import Signals, phrase_pattern

CONFIG_ENV = "COMPACT_CONFIG"
DEFAULT_CONFIG_NAME = "compact.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError("a password never goes in the file: name an environment variable "
                             "with password_env")
        return data


class _ServerSettings(_Section):
    """A mail server and how to reach it: what [mail.imap] and [mail.smtp] share."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)  # default: the usual one for the security
    security: Security
    oauth2_token_env: str | None = None
    oauth2_token_command: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _plain_text_on_loopback_only(self) -> _ServerSettings:
        if self.security == "none" and not is_loopback(self.host):
            raise ValueError("security = 'none' is allowed only on loopback (127.0.0.1, ::1)")
        return self


class ImapSettings(_ServerSettings):
    """Where the dispute mailbox lives (the watcher reads it); port 993 for tls, 143 otherwise."""

    security: Security = "tls"
    username: str
    password_env: str = "COMPACT_IMAP_PASSWORD"
    inbox: str = "INBOX"


class SmtpSettings(_ServerSettings):
    """How acknowledgements are sent; port 465 for tls, 587 for starttls, 25 for none."""

    security: Security = "starttls"
    username: str | None = None
    password_env: str | None = "COMPACT_SMTP_PASSWORD"
    sender: str = Field(alias="from")


class Folders(_Section):
    """The IMAP folder each disposition is filed in."""

    stage_1: str = Field(default="Disputes/Stage 1", alias="stage-1")
    stage_2: str = Field(default="Disputes/Stage 2", alias="stage-2")
    stage_3: str = Field(default="Disputes/Stage 3", alias="stage-3")
    needs_triage: str = Field(default="Disputes/Needs triage", alias="needs-triage")
    ignored: str = Field(default="Disputes/Ignored", alias="ignored")

    def for_disposition(self, disposition: str) -> str:
        """The folder of a disposition such as 'stage-2'."""
        return str(getattr(self, disposition.replace("-", "_")))


class WatchSettings(_Section):
    """How the IMAP watcher (`mail watch`) reads the mailbox and paces itself: [mail.watch]."""

    idle_renew_minutes: float = Field(default=9.0, gt=0, le=29)  # RFC 2177: under 29 minutes
    batch_size: int = Field(default=200, ge=1, le=5_000)
    size_cap_bytes: int = Field(default=2 * 1024 * 1024, ge=16 * 1024)
    reconnect_max_seconds: float = Field(default=300.0, gt=0)
    acknowledgements_per_address_per_day: int = Field(default=5, ge=0)
    acknowledgement_retry_minutes: float = Field(default=5.0, gt=0)


class AcknowledgementSettings(_Section):
    """What acknowledgements do beyond answering the sender: [mail.acknowledgements]."""

    # Opt-in: an organisation may want BVSC's advice before its commissioner hears of it.
    copy_commissioner: bool = False


class RoutingSettings(_Section):
    """The learned part of routing: [mail.routing]."""

    weights: Path = Path("routing-weights.json")
    """The weights `mail train` writes and routing reads (relative to the configuration's folder);
    while the file does not exist, the weights bundled with compact-docs are used."""
    learned: bool = True
    """false: decide by the phrase rules alone, as before the models."""


class MailSettings(_Section):
    """The [mail] table."""

    imap: ImapSettings | None = None
    folders: Folders = Folders()
    smtp: SmtpSettings | None = None
    watch: WatchSettings = WatchSettings()
    acknowledgements: AcknowledgementSettings = AcknowledgementSettings()
    routing: RoutingSettings = RoutingSettings()

    @model_validator(mode="after")
    def _stage_folders_are_not_the_inbox(self) -> MailSettings:
        inbox = self.imap.inbox if self.imap is not None else "INBOX"
        for name, folder in self.folders.model_dump(by_alias=True).items():
            same = folder == inbox or (folder.upper() == "INBOX" and inbox.upper() == "INBOX")
            if same:
                raise ValueError(f"folders.{name} is the inbox ({folder!r}): the watcher would file "
                                 "messages back where it reads them")
        return self


class OrganisationEntry(_Section):
    """One organisation of the directory, recognised by its addresses or mail domains."""

    name: str = Field(min_length=1)
    domains: list[str] = []
    addresses: list[str] = []
    commissioned: bool
    commissioner: str | None = None
    commissioner_body: str | None = None

    @field_validator("domains", "addresses")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [v.strip().lower().lstrip("@") for v in values if v.strip()]

    @model_validator(mode="after")
    def _recognisable(self) -> OrganisationEntry:
        if not self.domains and not self.addresses:
            raise ValueError(f"organisation {self.name!r} needs at least one of domains, addresses")
        return self


class Phrases(_Section):
    """Phrase overrides: plain-text phrases added to (or, with replace_defaults, replacing) the defaults."""

    dispute: list[str] = []
    tried_informal: list[str] = []
    escalation: list[str] = []
    replace_defaults: bool = False

    @field_validator("dispute", "tried_informal", "escalation")
    @classmethod
    def _not_blank(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("a phrase must not be blank")
        return values

    def compile(self) -> None:
        """Compile every phrase once, so that one which cannot be matched is found (ValueError)."""
        for phrase in (*self.dispute, *self.tried_informal, *self.escalation):
            re.compile(phrase_pattern(phrase))


class CasesSettings(_Section):
    """The [cases] table: [cases.deadlines], working days a case may stay at a stage (BVSC's own
    service standard, not the Compact's), keyed 'stage-1', 'stage-2'...; a stage left out of a
    file keeps its default (stage-1 10, stage-2 20); 0 means no deadline for that stage."""

    deadlines: dict[str, int] = {}

    @field_validator("deadlines")
    @classmethod
    def _stages(cls, values: dict[str, int]) -> dict[str, int]:
        for key, days in values.items():
            if not re.fullmatch(r"stage-[1-9]", key):
                raise ValueError(f"'{key}' is not a stage: use 'stage-1', 'stage-2'...")
            if days < 0:
                raise ValueError(f"{key}: a number of working days cannot be negative")
        return values

    def deadline_days(self) -> dict[int, int]:
        """Working days per stage number, the defaults filled in, stages without a deadline left out."""
        from compact_docs.register.deadlines import DEFAULT_DEADLINES

        merged = {**{f"stage-{n}": d for n, d in DEFAULT_DEADLINES.items()}, **self.deadlines}
        return {int(key.split("-")[1]): days for key, days in merged.items() if days > 0}


class MailConfig(_Section):
    """A whole mail configuration; `folder` is where the file was, for relative paths."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              arbitrary_types_allowed=True)

    profile: str = "bexley"
    database: Path = Path("compact.db")
    database_mode: Literal["private", "group"] = "private"
    mail: MailSettings = MailSettings()
    organisations: list[OrganisationEntry] = []
    phrases: Phrases = Phrases()
    cases: CasesSettings = CasesSettings()
    max_text_chars: int = Field(default=200_000, ge=1_000)
    folder: Path = Path(".")
    source: str = "(defaults)"

    @property
    def database_path(self) -> Path:
        """The case register's path: a relative `database` is relative to the file's folder."""
        path = self.database.expanduser()
        return path if path.is_absolute() else self.folder / path

    @cached_property
    def compact_profile(self) -> Profile:
        """The Compact profile this mailbox routes disputes under."""
        profile_ref = self.profile
        candidate = self.folder / profile_ref
        if profile_ref.endswith(".toml") and not Path(profile_ref).is_absolute() and candidate.exists():
            profile_ref = str(candidate)
        return load_profile(profile_ref)

    @cached_property
    def signals(self) -> Signals:
        """The phrase lists, defaults plus this file's phrases."""
        p = self.phrases
        return Signals.configured({"dispute": p.dispute, "tried_informal": p.tried_informal,
                                   "escalation": p.escalation}, replace=p.replace_defaults,
                                  compact=self.compact_profile)

    @property
    def weights_path(self) -> Path:
        """Where `mail train` writes this mailbox's routing weights (relative to the file's folder)."""
        path = self.mail.routing.weights.expanduser()
        return path if path.is_absolute() else self.folder / path

    @cached_property
    def commissioner_domains(self) -> frozenset[str]:
        """The mail domains of the directory's commissioners (the statutory side)."""
        return frozenset(o.commissioner.rsplit("@", 1)[1].strip().lower() for o in self.organisations
                         if o.commissioner and "@" in o.commissioner)

    def commissioner_side(self, address: str | None) -> bool:
        """Whether an address is a commissioner's, or in a commissioner's domain."""
        if not address or "@" not in address:
            return False
        address = address.strip().lower()
        domain = address.rsplit("@", 1)[1]
        return any(domain == d or domain.endswith("." + d) for d in self.commissioner_domains)

    @property
    def own_domains(self) -> frozenset[str]:
        """The mail domains of the mailbox's own organisation (BVSC): those of its SMTP sender
        and IMAP user, where they are addresses."""
        found = set()
        for address in (self.mail.smtp.sender if self.mail.smtp else None,
                        self.mail.imap.username if self.mail.imap else None):
            if address and "@" in address:
                found.add(address.rsplit("@", 1)[1].strip().strip(">").lower())
        return frozenset(found)

    def organisation_named(self, name: str | None) -> OrganisationEntry | None:
        """The directory entry of an organisation by its name, or None."""
        return next((o for o in self.organisations if name and o.name == name), None)

    def organisation_for(self, address: str | None) -> tuple[OrganisationEntry, str] | None:
        """The organisation a sender address belongs to, and how it matched (address or domain)."""
        if not address or "@" not in address:
            return None
        address = address.strip().lower()
        for org in self.organisations:
            if address in org.addresses:
                return org, f"address {address}"
        domain = address.rsplit("@", 1)[1]
        # The longest matching domain wins, so a sub-domain can belong to another organisation.
        matches = [(len(d), org, d) for org in self.organisations for d in org.domains
                   if domain == d or domain.endswith("." + d)]
        if not matches:
            return None
        _, org, d = max(matches, key=lambda m: m[0])
        return org, f"domain {d}"


def parse_config(text: str, source: str, folder: Path) -> MailConfig:
    """Parse the TOML text of a mail configuration; raise ConfigError naming the problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    for reserved in ("folder", "source"):
        raw.pop(reserved, None)
    try:
        config = MailConfig.model_validate({**raw, "folder": folder, "source": source})
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + "; ".join(describe_config_error(exc))) from exc
    try:
        config.phrases.compile()  # now, so a bad phrase is reported here
    except (ValueError, ArithmeticError) as exc:
        raise ConfigError(f"{source}: phrases: {exc}") from exc
    return config


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The configuration section an annotation holds (through Optional and list), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None), None)


def _keys_at(path: tuple[str | int, ...]) -> list[str]:
    """The keys a configuration takes in the table at `path` (as written in TOML)."""
    model: type[BaseModel] | None = MailConfig
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        model = _model_in(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if n not in ("folder", "source")]


def describe_config_error(exc: ValidationError) -> list[str]:
    """One plain line per problem, in a configuration's words: an unknown table or key is named
    as such, with the keys its table takes and the closest one."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        if err["type"] != "extra_forbidden":
            continue
        *parent, key = err["loc"]
        table = ".".join(str(p) for p in parent if not isinstance(p, int))
        known = _keys_at(tuple(parent))
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        where = f"[{table}]" if table else "a mail configuration"
        if isinstance(err.get("input"), dict):
            name = f"[{table}.{key}]" if table else f"[{key}]"
            lines.append(f"{name} is not a table of {where} (it takes: {', '.join(known)}){hint}")
        else:
            lines.append(f"'{key}' is not a key of {where} (it takes: {', '.join(known)}){hint}")
    lines += [line for line in describe_validation_error(exc) if " is not a field of " not in line]
    return lines


def find_config(path: str | Path | None = None) -> Path:
    """The configuration file to use: the given path, else $COMPACT_CONFIG, else ./compact.toml."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_config(path: str | Path | None = None, *, required: bool = True) -> MailConfig | None:
    """Read the mail configuration; with required=False a missing default file gives None."""
    chosen = find_config(path)
    explicit = bool(path) or bool(os.environ.get(CONFIG_ENV))
    if not chosen.is_file():
        if not required and not explicit:
            return None
        how = "given" if path else (f"named by ${CONFIG_ENV}" if explicit else "default")
        raise ConfigError(f"no mail configuration at {chosen} ({how}); pass --config FILE, "
                          f"set ${CONFIG_ENV}, or create ./{DEFAULT_CONFIG_NAME}")
    try:
        text = chosen.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the mail configuration {chosen}: {exc}") from exc
    return parse_config(text, str(chosen), chosen.resolve().parent)


def require_config(path: str | Path | None = None) -> MailConfig:
    """Read the mail configuration, which must exist."""
    config = load_config(path, required=True)
    assert config is not None
    return config
