"""Compact profiles: the rules of one Compact (notice, service, stages, bodies, clause texts) as data."""

from __future__ import annotations

import re
import tomllib
import weakref
from datetime import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, SupportsIndex

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from compact_docs.errors import ProfileError

Unit = Literal["months", "weeks", "days"]
Action = Literal["end", "reduce", "vary"]
Sector = Literal["statutory", "vcs", "shared"]
Jurisdiction = Literal["england-and-wales", "scotland", "northern-ireland"]

DEFAULT_PROFILE = "bexley"

CASE_PREFIX = r"[A-Z][A-Z0-9]{0,9}"
"""What a profile's case-reference prefix may be: a capital letter, then up to nine more or digits."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clause(_Strict):
    """One clause of the Compact that a finding can cite."""

    cite: str
    text: str


class NoticeRule(_Strict):
    """Minimum written notice a funder gives before a funding change or end takes effect."""

    length: int = Field(ge=0)
    unit: Unit = "months"
    applies_to: list[Action]
    clause: str
    exception_clause: str
    rationale_clause: str
    roll_off_weekend: bool = False
    ask_clauses: dict[Action, str] = {}
    """The clause a notice quotes under 'What we ask of you', by decision (default: the funding-end
    plan's clause): planning for the end of funding fits an end, not a reduction."""


class ServiceNoticeRule(_Strict):
    """Minimum notice a VCO gives of a change to its service."""

    length: int = Field(ge=0)
    unit: Unit = "months"
    clause: str
    plan_clause: str


class DeemedServiceRule(_Strict):
    """When a notice counts as given, by delivery method."""

    cutoff: time
    email_working_days: int = Field(default=0, ge=0)
    hand_working_days: int = Field(default=0, ge=0)
    first_class_post_working_days: int = Field(default=2, ge=0)
    second_class_post_working_days: int = Field(default=4, ge=0)


class EiaRule(_Strict):
    """Which decisions need an Equality Impact Assessment first."""

    applies_to: list[Action]
    clause: str
    also_clause: str | None = None


class EngagementRule(_Strict):
    """Involving the organisation before a decision: a notice that says nothing of it is a finding."""

    clause: str
    severity: Literal["error", "warning"] = "warning"


class ResponseRule(_Strict):
    """The organisation's opportunity to respond to a decision once notice is given (its window)."""

    clause: str
    min_days: int = Field(default=14, ge=0)


class ConsultationRule(_Strict):
    """Length of a formal written consultation (distinct from a notice period)."""

    length: int = Field(ge=0)
    unit: Unit
    clause: str


class FundingTermRule(_Strict):
    """Guidance on the length of funding agreements."""

    min_years: int = Field(ge=0)
    strategic_min_years: int = Field(ge=0)
    clause: str


class FundingEndPlanRule(_Strict):
    """What a VCO's plan for the end of funding must contain."""

    clause: str
    beneficiary_notice_months: int = Field(ge=0)
    required_sections: list[str]


class DisputeStage(_Strict):
    """One stage of the Compact's conflict-resolution process."""

    number: int = Field(ge=1)
    name: str
    entry: Literal["commissioned", "any", "escalation"]
    clause: str
    others_clause: str | None = None
    """For a stage only some organisations enter: the clause that sends the others on."""
    summary: str
    next_steps: str
    bodies: list[str] = []
    escalated_by: list[Literal["unresolved", "policy"]] = ["unresolved", "policy"]
    """What a message on a case must say to move the case up into this stage: that the issue is
    still unresolved (or needs someone more senior), or that it needs a policy decision."""


class IssueType(_Strict):
    """One of the Compact's examples of an issue at a stage, and the words that tell of it."""

    id: str
    name: str
    stage: int = Field(ge=1)
    clause: str
    patterns: list[str] = Field(min_length=1)
    """Regular expressions matched against the sender's own words, lower-cased."""
    unless: list[str] = []
    """Regular expressions that, in the sentence of a match, say it is about something else (a
    new invoicing portal is not a monitoring requirement)."""


class RoutingRules(_Strict):
    """How sure the router must be, and whether an issue's type decides its entry stage."""

    confidence: float = Field(default=0.6, ge=0.5, le=1.0)
    """Below this probability a decision (dispute or not, stage 1 or 2) goes to needs-triage."""
    other_language_confidence: float = Field(default=0.8, ge=0.5, le=1.0)
    """How sure the stage decision must be when the sender wrote in another language with no English
    lines to weigh (the models learned mostly English); the higher of this and `confidence` applies."""
    stage_from_issue_type: bool = True
    """A commissioned organisation's issue of a later stage's type opens at that stage."""
    presume_dispute: bool = True
    """In a dispute mailbox a person's message is a dispute unless it reads as something else:
    when unsure, presume a dispute (true) or send it to needs-triage (false)."""


class DisputeRules(_Strict):
    """The conflict-resolution process: its stages in order, its examples, and how sure to be."""

    clause: str
    register_body: str
    stages: list[DisputeStage] = Field(min_length=1)
    routing: RoutingRules = RoutingRules()
    issue_types: list[IssueType] = []


class Body(_Strict):
    """A named body in the Compact, identified by id (acronyms are not unique across Compacts)."""

    id: str
    name: str
    acronym: str | None = None
    role: str | None = None
    contact: str | None = None
    email: str | None = None
    addressee: str | None = None
    """Who a letter to the body is addressed to ('The Chair'), when it is not a named contact."""
    care_of: str | None = None
    """The id of the body whose office takes the body's post."""
    of_organisation: bool = False
    """The body belongs to the organisation in dispute (its governing board): its address is the
    organisation's."""


class Commitment(_Strict):
    """One of the Compact's commitments with its undertakings per sector."""

    number: int = Field(ge=1)
    title: str
    statutory: list[str] = []
    vcs: list[str] = []
    shared: list[str] = []

    def undertakings(self, sector: Sector) -> list[str]:
        """The undertakings of this commitment for one sector."""
        return list(getattr(self, sector))


class Profile(_Strict):
    """The rules of one Compact, read from a TOML file."""

    id: str
    name: str
    short_name: str
    area: str
    jurisdiction: Jurisdiction = "england-and-wales"
    timezone: str = "Europe/London"
    case_prefix: str = Field(pattern=f"^{CASE_PREFIX}$")
    contact_note: str = ""
    notice: NoticeRule
    service_notice: ServiceNoticeRule
    deemed_service: DeemedServiceRule
    eia: EiaRule
    engagement: EngagementRule | None = None
    response: ResponseRule
    consultation: ConsultationRule | None = None
    funding_term: FundingTermRule | None = None
    funding_end_plan: FundingEndPlanRule
    dispute: DisputeRules
    bodies: list[Body] = []
    commitments: list[Commitment] = Field(min_length=1)
    clauses: dict[str, Clause]
    source: str = ""

    @model_validator(mode="after")
    def _references_resolve(self) -> Profile:
        used = [
            self.notice.clause, self.notice.exception_clause, self.notice.rationale_clause,
            self.service_notice.clause, self.service_notice.plan_clause, self.eia.clause,
            self.response.clause, self.funding_end_plan.clause, self.dispute.clause,
        ]
        used += [s.clause for s in self.dispute.stages]
        used += [s.others_clause for s in self.dispute.stages if s.others_clause]
        used += list(self.notice.ask_clauses.values())
        if self.engagement:
            used.append(self.engagement.clause)
        used += [t.clause for t in self.dispute.issue_types]
        if self.eia.also_clause:
            used.append(self.eia.also_clause)
        if self.funding_term:
            used.append(self.funding_term.clause)
        if self.consultation:
            used.append(self.consultation.clause)
        missing = sorted({c for c in used if c not in self.clauses})
        if missing:
            raise ValueError(f"clauses used but not defined in [clauses]: {', '.join(missing)}")
        numbers = [s.number for s in self.dispute.stages]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("dispute.stages must be numbered 1, 2, 3 ... in order")
        for issue in self.dispute.issue_types:
            if issue.stage not in numbers:
                raise ValueError(f"dispute.issue_types {issue.id!r}: no stage {issue.stage}")
            for pattern in (*issue.patterns, *issue.unless):
                if "\b" in pattern:  # TOML's "\b" in double quotes is a backspace, not a word boundary
                    raise ValueError(f"dispute.issue_types {issue.id!r}: pattern {pattern!r} holds a backspace "
                                     "character: write the word boundary as '\\b' in single quotes, or "
                                     "\"\\\\b\" in double quotes")
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"dispute.issue_types {issue.id!r}: bad pattern {pattern!r}: "
                                     f"{exc}") from exc
        body_ids = {b.id for b in self.bodies}
        if self.dispute.register_body not in body_ids:
            raise ValueError(f"dispute.register_body {self.dispute.register_body!r} is not in [[bodies]]")
        return self

    def named(self, capital: bool = False) -> str:
        """The Compact's name after 'the' is taken care of: 'the Bexley Compact' ('The ...' to open)."""
        name = self.name[4:] if self.name.lower().startswith("the ") else self.name
        return ("The " if capital else "the ") + name

    def cite(self, clause_id: str) -> str:
        """The citation text of a clause, such as 'Commitment 2, statutory undertaking 2'."""
        return self.clauses[clause_id].cite

    def clause_text(self, clause_id: str) -> str:
        """The words of a clause."""
        return self.clauses[clause_id].text

    def stage(self, number: int) -> DisputeStage:
        """A dispute stage by number; raises ProfileError for a stage the Compact does not have."""
        for stage in self.dispute.stages:
            if stage.number == number:
                return stage
        raise ProfileError(f"{self.name} has no dispute stage {number}")

    def issue_type(self, issue_id: str) -> IssueType | None:
        """A dispute issue type by id (None for one the profile does not name)."""
        return next((t for t in self.dispute.issue_types if t.id == issue_id), None)

    @property
    def last_stage(self) -> int:
        """The highest dispute stage."""
        return self.dispute.stages[-1].number

    def body(self, body_id: str) -> Body | None:
        """A body by id, or None."""
        return next((b for b in self.bodies if b.id == body_id), None)

    def commitment(self, number: int) -> Commitment | None:
        """A commitment by number, or None."""
        return next((c for c in self.commitments if c.number == number), None)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """A profile that `load_profile` loaded pickles as the name or path it was loaded by, not as
        its rules: a process laying out a batch's letters loads (or already has) its own copy."""
        loaded_as = _LOADED_AS.get(id(self))
        if loaded_as is not None:
            return load_profile, (loaded_as,)
        return super().__reduce_ex__(protocol)

    def summary(self) -> list[str]:
        """The profile's rules in a few readable lines (`profiles show`)."""
        from compact_docs.rules.dates import describe_period

        d = self.deemed_service
        lines = [
            f"{self.name} [{self.id}]  ({self.area}; bank holidays: {self.jurisdiction})",
            f"Funder notice: {describe_period(self.notice.length, self.notice.unit)} in writing for "
            f"{', '.join(self.notice.applies_to)} ({self.cite(self.notice.clause)})",
            f"VCO service-change notice: {describe_period(self.service_notice.length, self.service_notice.unit)} "
            f"({self.cite(self.service_notice.clause)})",
            f"Deemed given: email/hand before {d.cutoff:%H:%M} on a working day; first-class post "
            f"+{d.first_class_post_working_days} working days; second-class post +{d.second_class_post_working_days}",
            f"Equality Impact Assessment for: {', '.join(self.eia.applies_to)} ({self.cite(self.eia.clause)})",
        ]
        if self.funding_term:
            lines.append(f"Funding term: at least {self.funding_term.min_years} years "
                         f"({self.funding_term.strategic_min_years} for strategic partners)")
        lines.append(f"Case references: {self.case_prefix}-YYYY-NNNN")
        lines.append("Dispute stages:")
        lines += [f"  {s.number}. {s.name} (entry: {s.entry}): {s.summary}" for s in self.dispute.stages]
        lines.append("Bodies:")
        lines += [f"  {b.id}: {b.name}" + (f" <{b.email}>" if b.email else "") for b in self.bodies]
        return lines


def bundled_profile_names() -> list[str]:
    """The names of the profiles shipped with compact-docs."""
    folder = resources.files("compact_docs").joinpath("profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_profile(text: str, source: str) -> Profile:
    """Parse the TOML text of a profile; raise ProfileError naming the source and the problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {source} is not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ProfileError(f"profile {source} is nested too deeply to be a profile") from exc
    raw["source"] = source
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"profile {source} is malformed: {_describe(exc)}") from exc


MAX_PROFILE_BYTES = 1024 * 1024
"""The largest profile file read (the bundled ones are about 20 kB)."""


_LOADED_AS: dict[int, str] = {}
"""The name or path each profile `load_profile` returned was loaded by, while that profile lives."""


@lru_cache(maxsize=32)
def _load_cached(name_or_path: str) -> Profile:
    profile = _read(name_or_path)
    _LOADED_AS[id(profile)] = name_or_path
    weakref.finalize(profile, _LOADED_AS.pop, id(profile), None)
    return profile


def _read(name_or_path: str) -> Profile:
    if name_or_path in bundled_profile_names():
        text = resources.files("compact_docs").joinpath("profiles", f"{name_or_path}.toml").read_text(
            encoding="utf-8"
        )
        return parse_profile(text, f"{name_or_path} (bundled)")
    path = Path(name_or_path)
    try:
        usable = path.suffix == ".toml" or path.exists()
    except OSError:
        usable = False
    if usable:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_PROFILE_BYTES + 1)
        except OSError as exc:
            raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from exc
        if len(raw) > MAX_PROFILE_BYTES:
            raise ProfileError(f"profile {path} is larger than a profile may be ({MAX_PROFILE_BYTES:,} bytes)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileError(f"profile {path} is not UTF-8 text") from exc
        return parse_profile(text, str(path))
    names = ", ".join(bundled_profile_names())
    raise ProfileError(f"unknown profile {name_or_path!r}: use one of {names}, or a path to a .toml file")


def load_profile(name_or_path: str | Path | None = None) -> Profile:
    """Load a bundled profile by name ('bexley', 'national') or a user's profile file by path."""
    key = str(name_or_path) if name_or_path else DEFAULT_PROFILE
    if len(key) > 1024 or "\x00" in key:
        raise ProfileError(f"unknown profile {key[:60]!r}...: not a profile name or a usable path")
    try:
        if Path(key).exists():
            key = str(Path(key).resolve())
    except OSError as exc:
        raise ProfileError(f"cannot use profile {key[:60]!r}: {exc.strerror or exc}") from exc
    return _load_cached(key)
