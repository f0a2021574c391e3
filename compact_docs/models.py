"""The data models of the five letter kinds, validated with pydantic."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from compact_docs.errors import FieldProblem
from compact_docs.rules.dates import Delivery
from compact_docs.uk_input import uk_date, uk_moment, uk_money

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
"""Dates outside these years are typing mistakes (and would overflow the calendar arithmetic)."""


def _plausible_date(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be a year between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _plausible_moment(value: datetime) -> datetime:
    _plausible_date(value.date())
    return value


Date = Annotated[date, BeforeValidator(uk_date), AfterValidator(_plausible_date)]
"""A calendar date between 1900 and 2200: 2027-03-01, or 01/03/2027 as a UK spreadsheet writes it."""

Moment = Annotated[datetime, BeforeValidator(uk_moment), AfterValidator(_plausible_moment)]
"""A date and time between 1900 and 2200 (the Compact's local time when no zone is given)."""

MAX_AMOUNT = Decimal(10**12)
"""The largest sum of money a letter may state: a trillion pounds (1e5000 is a typing mistake)."""


def _plausible_amount(value: Decimal) -> Decimal:
    if value > MAX_AMOUNT:
        raise ValueError(f"must be at most £{MAX_AMOUNT:,.0f}")
    return value


Money = Annotated[Decimal, BeforeValidator(uk_money), AfterValidator(_plausible_amount)]
"""An amount in pounds: 36000, 36000.50, '£36,000.00' or '15,400'; finite, at most a trillion."""

_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
                    r"[A-Za-z0-9])?)+)$")


def email_problem(address: str) -> str | None:
    """What is wrong with an email address, or None: it needs a name, '@' and a real domain."""
    found = _EMAIL.match(address)
    if found is None:
        return "is not an email address (name@domain.example)"
    top_level = found.group(1).rsplit(".", 1)[-1]
    if not (top_level.isalpha() and len(top_level) >= 2):
        return "is not an email address with a real domain (it ends in .org, .uk, .com ...)"
    return None


def _real_email(value: str) -> str:
    problem = email_problem(value)
    if problem is not None:
        domain = value.rpartition("@")[2]
        if "@" in value and "." not in domain:
            problem = f"has no real domain: '{domain}' needs its ending, such as {domain}.org.uk"
        raise ValueError(problem)
    return value


Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_real_email)]
"""An email address whose domain is a real one (jack@wellingyouthfc is refused)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A string that must say something (blank is refused)."""


_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 (and so DOCX and PDF text) cannot hold."""

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
"""Directional embeddings, overrides, isolates and marks: they would make a reference read one
way in the PDF and another in the file name (LBB-GR-<U+202E>710-4202 shows as LBB-GR-2024-017),
so they are dropped from letter data."""


def _xml_safe(value: Any) -> Any:
    if isinstance(value, str):
        return _BIDI_CONTROLS.sub("", _NOT_IN_XML.sub("", value))
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_control_characters(cls, data: Any) -> Any:
        # Control characters cannot be written into a letter, and directional controls would make
        # it read differently from its file name; nested models clean their own fields.
        if isinstance(data, dict):
            return {key: _xml_safe(value) for key, value in data.items()}
        return data


def require_signatory(party: Party, field: str, letter: str) -> None:
    """A sender must name a person to sign the letter (and to contact): a field problem if not."""
    if party.signatory is None and party.contact is None:
        raise FieldProblem(
            f"{field}.signatory",
            f"is required but missing: {letter} is signed by a named person (give {field}.signatory "
            f"a name and role; {field}.contact, if someone else, is who to ask)")


class Person(_Model):
    """A named person: a signatory or a contact."""

    name: Text = Field(description="The person's full name, as it is signed: 'Alex Officer'.")
    role: str | None = Field(default=None, description="Their job title: 'Director of Integrated Commissioning'.")
    email: Email | None = Field(default=None, description="Their email address (name@domain.example).")
    phone: str | None = Field(default=None, description="Their telephone number.")


class Party(_Model):
    """A body that sends or receives a letter."""

    name: Text = Field(description="The body's name: 'London Borough of Bexley'.")
    address: list[str] = Field(default=[], description="The postal address, one line per item.")
    signatory: Person | None = Field(
        default=None, description="Who signs letters the body sends (a letter needs a named signatory).")
    contact: Person | None = Field(
        default=None, description="Who to contact about the letter, if not the signatory; for a recipient, "
                                  "the person the letter is addressed to.")


class Organisation(Party):
    """A voluntary or community organisation."""

    commissioned: bool = Field(
        default=True, description="Whether the organisation is commissioned (funded) by the commissioner: "
                                  "only commissioned organisations start a dispute at stage 1.")
    charity_number: str | None = Field(
        default=None, description="Its registered charity number, as text (in quotes in YAML: \"1098765\").")


class Funding(_Model):
    """The funding relationship a letter is about."""

    programme: Text = Field(description="The programme or service funded: 'Community Connect'.")
    reference: Text = Field(description="The funding agreement's reference: 'LBB-GR-2024-017'.")
    instrument: Literal["grant", "contract", "service-level-agreement", "other"] = Field(
        default="grant", description="How the money is given: grant, contract, service-level-agreement or other.")
    annual_value: Money | None = Field(
        default=None, ge=0, description="The current value a year, in pounds (48000 or £48,000).")
    start: Date | None = Field(default=None, description="The first day of the funding agreement.")
    end: Date | None = Field(default=None, description="The last day of the funding agreement as signed.")
    stream: str | None = Field(default=None, description="The funding stream the money comes from.")
    strategic: bool = Field(
        default=False, description="Whether the organisation is a strategic delivery partner (5-year agreements).")


class Decision(_Model):
    """A funder's decision to end, reduce or vary funding."""

    action: Literal["end", "reduce", "vary"] = Field(
        description="What the decision does to the funding: end, reduce or vary (change its terms).")
    summary: Text = Field(description="The decision in one or two sentences, as the letter states it.")
    decided_on: Date = Field(description="The date the decision was taken (before the notice is sent).")
    decision_maker: Text = Field(description="Who took the decision: 'Cabinet Member for Communities'.")
    rationale: str | None = Field(
        default=None, description="Why the decision was taken, with its evidence (the Compact asks for a clear "
                                  "rationale).")
    governance: str | None = Field(
        default=None, description="The governance route: the decision record or committee that took it.")
    new_annual_value: Money | None = Field(
        default=None, ge=0, description="For a reduction: the new value a year, less than funding.annual_value.")
    engagement: str | None = Field(
        default=None, description="How the organisation was involved and its views considered before the "
                                  "decision.")


class NoticeTiming(_Model):
    """When and how a notice is sent, and when the change takes effect."""

    sent: Moment = Field(
        description="When the notice is sent, Europe/London time: 2026-11-30T10:00 or 30/11/2026 10:00.")
    delivery: Delivery = Field(
        description="How it is delivered: email, hand, first-class-post or second-class-post (this sets the "
                    "day notice counts as given).")
    effective: Date = Field(
        description="The day the change takes effect; for an end or a reduction, the first day without the "
                    "funding (or the old rate), so the last funded day is the day before.")
    exceptional_circumstances: str | bool | None = Field(
        default=None, description="Why shorter notice than the Compact's minimum is given; leave empty when "
                                  "full notice is given.")


class Eia(_Model):
    """An Equality Impact Assessment."""

    reference: Text = Field(description="The assessment's reference: 'EIA-2026-031'.")
    date: Date = Field(description="The date it was completed (on or before the decision date).")
    summary: str | None = Field(default=None, description="What it found.")
    mitigations: list[str] = Field(default=[], description="The actions that reduce the impact, one per item.")


class Response(_Model):
    """How and by when the organisation may respond."""

    deadline: Date | None = Field(default=None, description="The last day for a response.")
    channel: str | None = Field(
        default=None, description="Where to send it: an email address or a postal address.")
    can_change: str | None = Field(
        default=None, description="What a response can still change (the timing, the transition support...).")

    @model_validator(mode="after")
    def _channel_email_is_real(self) -> Response:
        channel = (self.channel or "").strip().removeprefix("mailto:").strip("<>")
        if "@" in channel and " " not in channel:
            problem = email_problem(channel)
            if problem:
                raise FieldProblem("channel", problem)
        return self


class _Letter(_Model):
    profile: str = Field(
        default="bexley", description="The Compact the letter is checked against: bexley, national, or a "
                                      "profile .toml file.")
    date: Date | None = Field(
        default=None, description="The date printed on the letter (default: the day it is sent or made).")

    def _signing_party(self) -> tuple[Party, str, str] | None:
        """The party that must name a person to sign this letter, its field, and the letter in words
        (for the message); None for a letter without that rule."""
        return None

    @model_validator(mode="after")
    def _named_signatory(self) -> Self:
        signing = self._signing_party()
        if signing is not None:
            require_signatory(*signing)
        return self


class NoticeLetter(_Letter):
    """A funder's written notice that funding will change or end."""

    kind: Literal["notice"] = Field(default="notice", description="The letter kind: notice.")
    funder: Party = Field(description="The funder sending the notice, with its signatory.")
    organisation: Organisation = Field(description="The organisation receiving the notice, with its contact.")
    funding: Funding = Field(description="The funding agreement the notice is about.")
    decision: Decision = Field(description="The decision: what, when, who and why.")
    notice: NoticeTiming = Field(description="When and how the notice is sent, and when the change takes effect.")
    eia: Eia | None = Field(
        default=None, description="The Equality Impact Assessment done before the decision (null if none).")
    response: Response | None = Field(
        default=None, description="How and by when the organisation can respond to the decision.")
    support: list[str] = Field(default=[], description="The support offered through the change, one per item.")
    organisation_duties: list[str] = Field(
        default=[], description="What the organisation is asked to do (tell its service users, send a "
                                "funding-end plan, a final report...), one per item.")

    def _signing_party(self) -> tuple[Party, str, str]:
        return self.funder, "funder", "a notice"


class ServiceChange(_Model):
    """The change a VCO makes to its service."""

    summary: Text = Field(description="The change in one or two sentences.")
    reason: Text = Field(description="Why the service changes.")
    details: str | None = Field(default=None, description="More about the change: hours, place, access.")
    services_affected: list[str] = Field(default=[], description="The services that change, one per item.")
    beneficiaries_affected: int | None = Field(default=None, ge=0, description="How many people it affects.")


class FundingObjectivesPlan(_Model):
    """A VCO's plan for meeting its funding objectives through a change."""

    summary: str | None = Field(default=None, description="How the funding objectives will still be met.")
    actions: list[str] = Field(default=[], description="The steps of the plan, one per item.")


class BeneficiaryNotice(_Model):
    """How and when service users are told of a change."""

    date: Date = Field(description="When service users are told.")
    method: Text = Field(description="How they are told: letters, calls, notices.")


class ServiceChangeLetter(_Letter):
    """A VCO's notice to its funder of a change to its service."""

    kind: Literal["service-change"] = Field(default="service-change", description="The letter kind: service-change.")
    organisation: Organisation = Field(description="The organisation giving notice, with its signatory.")
    funder: Party = Field(description="The funder receiving the notice, with its contact.")
    funding: Funding = Field(description="The funding agreement for the service.")
    change: ServiceChange = Field(description="The change to the service.")
    notice: NoticeTiming = Field(description="When and how the notice is sent, and when the change takes effect.")
    plan: FundingObjectivesPlan | None = Field(
        default=None, description="The plan for meeting the funding objectives through the change.")
    beneficiary_notice: BeneficiaryNotice | None = Field(
        default=None, description="How and when service users are told.")
    response: Response | None = Field(default=None, description="How and by when the funder can respond.")

    def _signing_party(self) -> tuple[Party, str, str]:
        return self.organisation, "organisation", "a notice of service change"


class Beneficiaries(_Model):
    """Who is affected by the end of funding and how they are moved on."""

    count: int | None = Field(default=None, ge=0, description="How many people use the service.")
    groups: list[str] = Field(default=[], description="The people most affected, one group per item.")
    transition: list[str] = Field(default=[], description="How people are moved on, one step per item.")
    safeguarding: str | None = Field(default=None, description="How safeguarding concerns are handed over.")


class StaffAndVolunteers(_Model):
    """What happens to staff and volunteers."""

    staff: str | None = Field(default=None, description="What happens to paid staff.")
    volunteers: str | None = Field(default=None, description="What happens to volunteers.")


class AssetsAndFunds(_Model):
    """Contracts, leases, assets and unspent funds."""

    contracts_and_leases: list[str] = Field(default=[], description="Contracts and leases to end or hand over.")
    assets: list[str] = Field(default=[], description="Equipment and other assets bought with the funding.")
    unspent_funds: str | None = Field(default=None, description="What happens to unspent money.")


class Risk(_Model):
    """A risk of the funding end and how it is handled."""

    risk: Text = Field(description="What could go wrong.")
    mitigation: Text = Field(description="How it is prevented or handled.")
    owner: str | None = Field(default=None, description="Who looks after it.")


class Milestone(_Model):
    """A dated step of the plan."""

    date: Date = Field(description="When the step happens.")
    action: Text = Field(description="What happens.")
    owner: str | None = Field(default=None, description="Who does it.")


class FundingEndPlan(_Letter):
    """A VCO's plan for the end of a funding relationship."""

    kind: Literal["funding-end-plan"] = Field(
        default="funding-end-plan", description="The letter kind: funding-end-plan.")
    organisation: Organisation = Field(description="The organisation whose funding ends, with the plan's contact.")
    funder: Party = Field(description="The funder.")
    funding: Funding = Field(description="The funding agreement that ends.")
    funding_end: Date = Field(
        description="The day the funding ends: the date the funder's notice takes effect (its notice.effective), "
                    "the first day without funding; the last funded day is the day before.")
    summary: str | None = Field(default=None, description="The plan in a few sentences.")
    beneficiaries: Beneficiaries | None = Field(default=None, description="Who is affected and how they are moved on.")
    beneficiary_notice: BeneficiaryNotice | None = Field(
        default=None, description="How and when service users are told (at least 3 months before funding ends).")
    staff_and_volunteers: StaffAndVolunteers | None = Field(
        default=None, description="What happens to staff and volunteers.")
    assets_and_funds: AssetsAndFunds | None = Field(
        default=None, description="Contracts, leases, assets and unspent funds.")
    records: str | None = Field(default=None, description="What happens to records and personal data.")
    communications: list[str] = Field(default=[], description="Who is told what, and when, one per item.")
    options: list[str] = Field(default=[], description="Options for the future: other funding, mergers, closure.")
    risks: list[Risk] = Field(default=[], description="The risks and how each is handled.")
    milestones: list[Milestone] = Field(default=[], description="The dated steps up to the end of funding.")


class Attempt(_Model):
    """Something already tried to resolve a dispute."""

    date: Date | None = Field(default=None, description="When it was tried.")
    action: Text = Field(description="What was tried.")
    outcome: str | None = Field(default=None, description="What came of it.")


class Issue(_Model):
    """The issue in dispute."""

    summary: Text = Field(description="The issue in one or two sentences.")
    details: str | None = Field(default=None, description="More about the issue: facts, dates, amounts.")
    raised_on: Date | None = Field(default=None, description="When the issue was first raised.")
    quoted_from: str | None = Field(
        default=None, description="Whose words `details` are, when the letter quotes them (a case letter "
                                  "written by BVSC quotes the organisation's email).")


Voice = Literal["organisation", "dispute-body"]
"""Who writes an escalation letter: the organisation itself, or the body that runs the dispute process."""


class EscalationLetter(_Letter):
    """A dispute letter for stage 1, 2 or 3 of the Compact's conflict-resolution process."""

    kind: Literal["escalation"] = Field(default="escalation", description="The letter kind: escalation.")
    stage: int = Field(ge=1, le=9, description="The dispute stage the letter is for: 1, 2 or 3.")
    case_ref: str | None = Field(default=None, description="The dispute's case reference: 'BXC-2026-0007'.")
    voice: Voice = Field(
        default="organisation",
        description="Who writes: 'organisation' (the organisation, signed by its signatory or contact) or "
                    "'dispute-body' (the profile's dispute body, such as BVSC, on the organisation's behalf).")
    organisation: Organisation = Field(description="The organisation in dispute, with its contact.")
    commissioner: Party = Field(description="The commissioner (funder) the dispute is with, with its contact.")
    issue: Issue = Field(description="The issue in dispute: what it is, its details, when it was raised.")
    tried: list[Attempt] = Field(default=[], description="What has been tried so far, one attempt per item.")
    asks: list[str] = Field(default=[], description="What the organisation asks for, one per item.")
    policy_decision: str | None = Field(
        default=None, description="At stage 3: the policy decision that is needed.")
    referred_to: list[str] = Field(
        default=[], description="At stage 3: the bodies asked to take the policy decision, by their profile id "
                               "(bexley: vcs-governing-board, strategic-commissioning-board, or both).")

    def _signing_party(self) -> tuple[Party, str, str] | None:
        # Written by the dispute body, it is signed by that body's person, from the profile.
        return (self.organisation, "organisation", "a dispute letter") if self.voice == "organisation" else None


class SigningBody(Party):
    """The body that signs the Compact, with its sector."""

    sector: Literal["statutory", "vcs"] = Field(
        description="Which sector the body is in: statutory or vcs (voluntary and community).")
    charity_number: str | None = Field(
        default=None, description="Its registered charity number, as text (in quotes in YAML: \"1187654\").")


class AgreementLetter(_Letter):
    """A signatory agreement to the Compact."""

    kind: Literal["agreement"] = Field(default="agreement", description="The letter kind: agreement.")
    body: SigningBody = Field(description="The body that signs the Compact.")
    signatory: Person = Field(description="Who signs for the body.")
    commitments: list[int] = Field(
        default_factory=list, description="The commitments the body signs up to, by number: [1, 2, 3, 4].")
    undertakings: list[Literal["statutory", "vcs", "shared"]] = Field(
        default_factory=list, description="Which undertakings it signs: its own sector's and shared.")
    signed_on: Date | None = Field(default=None, description="The date it is signed.")
    countersignatory: Person | None = Field(default=None, description="Who countersigns for the Compact.")
    countersigning_body: str | None = Field(default=None, description="The body that countersigns.")


Letter = NoticeLetter | ServiceChangeLetter | FundingEndPlan | EscalationLetter | AgreementLetter

MODELS: dict[str, type[_Letter]] = {
    "notice": NoticeLetter,
    "service-change": ServiceChangeLetter,
    "funding-end-plan": FundingEndPlan,
    "escalation": EscalationLetter,
    "agreement": AgreementLetter,
}


def model_for(kind: str) -> type[_Letter]:
    """The model class of a letter kind."""
    return MODELS[kind]


_REQUIRED_FIELDS = {kind: {name for name, info in model.model_fields.items() if info.is_required()}
                    for kind, model in MODELS.items()}


def infer_kind(data: Any, source: str | None = None) -> str | None:
    """The letter kind of data that does not say: the one kind its fields fit, else the kind its
    file is named after ('notice.yaml', 'escalation-stage-2.yaml'); None when neither tells."""
    if isinstance(data, dict):
        keys = set(data) - {"kind"}
        fitting = [kind for kind, model in MODELS.items()
                   if _REQUIRED_FIELDS[kind] <= keys and keys <= set(model.model_fields)]
        if len(fitting) == 1:
            return fitting[0]
    if source:
        stem = source.replace("\\", "/").rsplit("/", 1)[-1].lower()
        for kind in sorted(MODELS, key=len, reverse=True):
            if stem == kind or stem.startswith((f"{kind}.", f"{kind}-", f"{kind}_")):
                return kind
    return None
