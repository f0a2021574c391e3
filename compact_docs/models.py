"""The data models of the five letter kinds, validated with pydantic."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from compact_docs.dates import Delivery
from compact_docs.kinds import KINDS as KINDS
from compact_docs.kinds import Kind as Kind

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
"""Dates outside these years are typing mistakes (and would overflow the calendar arithmetic)."""


def _plausible_date(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be a year between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _plausible_moment(value: datetime) -> datetime:
    _plausible_date(value.date())
    return value


Date = Annotated[date, AfterValidator(_plausible_date)]
"""A calendar date between 1900 and 2200."""

Moment = Annotated[datetime, AfterValidator(_plausible_moment)]
"""A date and time between 1900 and 2200 (Europe/London local time when no zone is given)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A string that must say something (blank is refused)."""

Amount = Annotated[Decimal, Field(ge=0, le=10**12, allow_inf_nan=False)]
"""A sum of money in pounds: finite, from nothing to a trillion (1e5000 is a typing mistake)."""


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


class Person(_Model):
    """A named person: a signatory or a contact."""

    name: Text
    role: str | None = None
    email: str | None = None
    phone: str | None = None


class Party(_Model):
    """A body that sends or receives a letter."""

    name: Text
    address: list[str] = []
    signatory: Person | None = None
    contact: Person | None = None


class Organisation(Party):
    """A voluntary or community organisation."""

    commissioned: bool = True
    charity_number: str | None = None


class Funding(_Model):
    """The funding relationship a letter is about."""

    programme: Text
    reference: Text
    instrument: Literal["grant", "contract", "service-level-agreement", "other"] = "grant"
    annual_value: Amount | None = None
    start: Date | None = None
    end: Date | None = None
    stream: str | None = None
    strategic: bool = False


class Decision(_Model):
    """A funder's decision to end, reduce or vary funding."""

    action: Literal["end", "reduce", "vary"]
    summary: Text
    decided_on: Date
    decision_maker: Text
    rationale: str | None = None
    governance: str | None = None
    new_annual_value: Amount | None = None
    engagement: str | None = None


class NoticeTiming(_Model):
    """When and how a notice is sent, and when the change takes effect."""

    sent: Moment
    delivery: Delivery
    effective: Date
    exceptional_circumstances: str | bool | None = None


class Eia(_Model):
    """An Equality Impact Assessment."""

    reference: Text
    date: Date
    summary: str | None = None
    mitigations: list[str] = []


class Response(_Model):
    """How and by when the organisation may respond."""

    deadline: Date | None = None
    channel: str | None = None
    can_change: str | None = None


class _Letter(_Model):
    profile: str = "bexley"
    date: Date | None = None


class NoticeLetter(_Letter):
    """A funder's written notice that funding will change or end."""

    kind: Literal["notice"] = "notice"
    funder: Party
    organisation: Organisation
    funding: Funding
    decision: Decision
    notice: NoticeTiming
    eia: Eia | None = None
    response: Response | None = None
    support: list[str] = []
    organisation_duties: list[str] = []


class ServiceChange(_Model):
    """The change a VCO makes to its service."""

    summary: Text
    reason: Text
    details: str | None = None
    services_affected: list[str] = []
    beneficiaries_affected: int | None = Field(default=None, ge=0)


class FundingObjectivesPlan(_Model):
    """A VCO's plan for meeting its funding objectives through a change."""

    summary: str | None = None
    actions: list[str] = []


class BeneficiaryNotice(_Model):
    """How and when service users are told of a change."""

    date: Date
    method: Text


class ServiceChangeLetter(_Letter):
    """A VCO's notice to its funder of a change to its service."""

    kind: Literal["service-change"] = "service-change"
    organisation: Organisation
    funder: Party
    funding: Funding
    change: ServiceChange
    notice: NoticeTiming
    plan: FundingObjectivesPlan | None = None
    beneficiary_notice: BeneficiaryNotice | None = None
    response: Response | None = None


class Beneficiaries(_Model):
    """Who is affected by the end of funding and how they are moved on."""

    count: int | None = Field(default=None, ge=0)
    groups: list[str] = []
    transition: list[str] = []
    safeguarding: str | None = None


class StaffAndVolunteers(_Model):
    """What happens to staff and volunteers."""

    staff: str | None = None
    volunteers: str | None = None


class AssetsAndFunds(_Model):
    """Contracts, leases, assets and unspent funds."""

    contracts_and_leases: list[str] = []
    assets: list[str] = []
    unspent_funds: str | None = None


class Risk(_Model):
    """A risk of the funding end and how it is handled."""

    risk: Text
    mitigation: Text
    owner: str | None = None


class Milestone(_Model):
    """A dated step of the plan."""

    date: Date
    action: Text
    owner: str | None = None


class FundingEndPlan(_Letter):
    """A VCO's plan for the end of a funding relationship."""

    kind: Literal["funding-end-plan"] = "funding-end-plan"
    organisation: Organisation
    funder: Party
    funding: Funding
    funding_end: Date
    summary: str | None = None
    beneficiaries: Beneficiaries | None = None
    beneficiary_notice: BeneficiaryNotice | None = None
    staff_and_volunteers: StaffAndVolunteers | None = None
    assets_and_funds: AssetsAndFunds | None = None
    records: str | None = None
    communications: list[str] = []
    options: list[str] = []
    risks: list[Risk] = []
    milestones: list[Milestone] = []


class Attempt(_Model):
    """Something already tried to resolve a dispute."""

    date: Date | None = None
    action: Text
    outcome: str | None = None


class Issue(_Model):
    """The issue in dispute."""

    summary: Text
    details: str | None = None
    raised_on: Date | None = None


class EscalationLetter(_Letter):
    """A dispute letter for stage 1, 2 or 3 of the Compact's conflict-resolution process."""

    kind: Literal["escalation"] = "escalation"
    stage: int = Field(ge=1, le=9)
    case_ref: str | None = None
    organisation: Organisation
    commissioner: Party
    issue: Issue
    tried: list[Attempt] = []
    asks: list[str] = []
    policy_decision: str | None = None


class SigningBody(Party):
    """The body that signs the Compact, with its sector."""

    sector: Literal["statutory", "vcs"]
    charity_number: str | None = None


class AgreementLetter(_Letter):
    """A signatory agreement to the Compact."""

    kind: Literal["agreement"] = "agreement"
    body: SigningBody
    signatory: Person
    commitments: list[int] = Field(default_factory=list)
    undertakings: list[Literal["statutory", "vcs", "shared"]] = Field(default_factory=list)
    signed_on: Date | None = None
    countersignatory: Person | None = None
    countersigning_body: str | None = None


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
