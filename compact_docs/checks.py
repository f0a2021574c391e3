"""Compliance checks: each letter kind against its Compact profile, every finding citing a clause."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from compact_docs.dates import (
    add_months,
    deemed_given,
    describe_period,
    earliest_effective_date,
    long_date,
    to_london,
)
from compact_docs.errors import InvalidData
from compact_docs.loading import as_letter
from compact_docs.models import (
    AgreementLetter,
    EscalationLetter,
    FundingEndPlan,
    Letter,
    NoticeLetter,
    NoticeTiming,
    ServiceChangeLetter,
)
from compact_docs.profile import Profile, ServiceNoticeRule, load_profile

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing a check found: a code, a severity, the clause it cites and a plain message."""

    code: str
    severity: Severity
    clause: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The finding as the JSON contract names it."""
        return {"code": self.code, "severity": self.severity, "clause": self.clause,
                "message": self.message}


@dataclass
class Report:
    """The result of checking one letter against a profile."""

    kind: str
    profile: str
    findings: list[Finding] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)

    @property
    def compliant(self) -> bool:
        """False exactly when a finding has severity error."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity error."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings of severity warning."""
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        """The report as the `check --json` contract names it."""
        return {
            "kind": self.kind,
            "profile": self.profile,
            "compliant": self.compliant,
            "findings": [f.to_dict() for f in self.findings],
            "dates": {k: v.isoformat() for k, v in self.dates.items()},
        }


class _Findings:
    """Collects findings for one profile, turning clause ids into citations."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.items: list[Finding] = []

    def add(self, code: str, severity: Severity, clause_id: str, message: str) -> None:
        self.items.append(Finding(code, severity, self.profile.cite(clause_id), message))


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


_NOT_CLAIMED = frozenset({"none", "n/a", "na", "-", "--", "nil", "no", "null", "false", "0", "not applicable"})
"""Values a register export uses for 'no exceptional circumstances'."""

_NO_REASON = frozenset({"tbc", "tbd", "todo", "to follow", "see above", "yes", "true", "?", "x"})
"""Values that claim exceptional circumstances without saying what they are."""


def _exception_reason(timing: NoticeTiming) -> tuple[bool, str | None]:
    """(claimed, reason): whether exceptional circumstances are claimed, and the reason given."""
    value = timing.exceptional_circumstances
    if value is None or value is False:
        return False, None
    if value is True:
        return True, None
    text = value.strip()
    if text.lower().rstrip(".") in _NOT_CLAIMED:
        return False, None
    if text.lower().rstrip(".") in _NO_REASON or len(text) < 4:
        return True, None
    return True, text


def exceptional_circumstances(timing: NoticeTiming) -> tuple[bool, str | None]:
    """(claimed, reason): whether a notice claims exceptional circumstances, and the reason it gives."""
    return _exception_reason(timing)


def _notice_period(
    out: _Findings,
    timing: NoticeTiming,
    length: int,
    unit: Literal["months", "weeks", "days"],
    clause: str,
    who: str,
    dates: dict[str, date],
) -> None:
    profile = out.profile
    given = deemed_given(timing.sent, timing.delivery, profile.deemed_service, profile.jurisdiction)
    earliest = earliest_effective_date(
        given, length, unit,
        roll_off_weekend=profile.notice.roll_off_weekend, jurisdiction=profile.jurisdiction,
    )
    dates.update(notice_given=given, earliest_effective=earliest, effective=timing.effective)
    claimed, reason = _exception_reason(timing)
    period = describe_period(length, unit)
    code = "NOTICE_PERIOD" if who == "funder" else "SERVICE_NOTICE_PERIOD"
    if claimed and reason is None:
        out.add("EXCEPTIONAL_REASON", "error", profile.notice.exception_clause if who == "funder"
                else clause,
                "Exceptional circumstances are claimed but no reason is given. Say what the "
                "exceptional circumstances are, or give the full notice period.")
    if timing.effective < earliest:
        short_by = (earliest - timing.effective).days
        days = "day" if short_by == 1 else "days"
        sent_on = to_london(timing.sent).date()
        counts = "that day" if given == sent_on else f"on {long_date(given)}"
        base = (f"The change takes effect on {long_date(timing.effective)}, but notice sent by "
                f"{timing.delivery.replace('-', ' ')} on {long_date(sent_on)} counts as "
                f"given {counts}, so {period}' notice runs to {long_date(earliest)}: "
                f"{short_by} {days} short.")
        if claimed and reason:
            out.add(code, "warning", clause,
                    base + f" Shorter notice relies on the exceptional circumstances stated: {reason}")
        else:
            out.add(code, "error", clause,
                    base + f" Move the effective date to {long_date(earliest)} or later, or state "
                    "the exceptional circumstances that justify shorter notice.")
    if timing.sent.date() > timing.effective:
        out.add(code, "error", clause,
                "The notice is dated after the change takes effect; notice must come first.")


def _check_notice(letter: NoticeLetter, out: _Findings, dates: dict[str, date]) -> None:
    rule = out.profile.notice
    if letter.decision.action in rule.applies_to:
        _notice_period(out, letter.notice, rule.length, rule.unit, rule.clause, "funder", dates)
    else:
        dates.update(effective=letter.notice.effective)
    _rationale(out, letter)
    _engagement(out, letter)
    _eia(out, letter)
    _response(out, letter.response, letter.notice.sent.date(), letter.notice.effective,
              dates.get("notice_given"))
    _new_value(out, letter)
    _decision_before_notice(out, letter)
    _funding_term(out, letter.funding.start, letter.funding.end, letter.funding.strategic)


def _rationale(out: _Findings, letter: NoticeLetter) -> None:
    clause = out.profile.notice.rationale_clause
    if _blank(letter.decision.rationale):
        out.add("RATIONALE", "error", clause,
                "The letter gives no rationale for the decision (decision.rationale). The Compact "
                "asks for a clear rationale for why the decision has been taken.")
    elif len((letter.decision.rationale or "").split()) < 8:
        out.add("RATIONALE", "warning", clause,
                "The rationale (decision.rationale) is very short. A clear rationale explains why "
                "the decision was taken and what evidence it rests on.")


def _engagement(out: _Findings, letter: NoticeLetter) -> None:
    rule = out.profile.engagement
    if rule is not None and _blank(letter.decision.engagement):
        out.add("ENGAGEMENT", rule.severity, rule.clause,
                "The letter does not say how the organisation was involved before the decision "
                "(decision.engagement). The Compact asks that organisations have the opportunity "
                "to respond before a decision is taken.")


def _eia(out: _Findings, letter: NoticeLetter) -> None:
    rule = out.profile.eia
    if letter.decision.action not in rule.applies_to:
        return
    if letter.eia is None:
        out.add("EIA", "error", rule.clause,
                f"No Equality Impact Assessment is given (eia) for a decision to "
                f"{letter.decision.action} funding. Assess the equalities impact before the "
                "decision is taken and give its reference and date.")
    elif letter.eia.date > letter.decision.decided_on:
        also = f" and {out.profile.cite(rule.clause)}" if rule.also_clause else ""
        out.add("EIA", "error", rule.also_clause or rule.clause,
                f"The Equality Impact Assessment ({letter.eia.reference}) is dated "
                f"{long_date(letter.eia.date)} (eia.date), after the decision on "
                f"{long_date(letter.decision.decided_on)} (decision.decided_on): the letter would "
                "say it was assessed before the decision. The Compact asks for the assessment "
                f"before the decision is taken{also}; check the dates.")


def _new_value(out: _Findings, letter: NoticeLetter) -> None:
    decision, current = letter.decision, letter.funding.annual_value
    clause = out.profile.notice.clause
    if decision.action != "reduce":
        return
    if decision.new_annual_value is None:
        out.add("DECISION", "warning", clause,
                "The decision reduces funding but does not give the new annual value "
                "(decision.new_annual_value).")
    elif current is not None and decision.new_annual_value >= current:
        out.add("DECISION", "error", clause,
                f"The decision is a reduction, but the new annual value (decision.new_annual_value, "
                f"{_pounds(decision.new_annual_value)}) is not less than the current value "
                f"(funding.annual_value, {_pounds(current)}). Correct the amount, or use action "
                "'vary' for a change that is not a reduction.")


def _pounds(value: Decimal) -> str:
    return f"£{value:,.2f}".replace(".00", "")


def _decision_before_notice(out: _Findings, letter: NoticeLetter) -> None:
    decided = letter.decision.decided_on
    sent = to_london(letter.notice.sent).date()
    dated = letter.date or sent
    if sent < decided or dated < decided:
        field, day = ("notice.sent", sent) if sent < decided else ("date", dated)
        out.add("DECISION", "error", out.profile.notice.clause,
                f"The decision is dated {long_date(decided)} (decision.decided_on), after the "
                f"letter's date {long_date(day)} ({field}): notice is given once a decision is "
                "made, so the letter cannot report a decision still to come. Check the dates.")


def _response(out: _Findings, response: Any, sent: date, effective: date,
              given: date | None) -> None:
    clause = out.profile.response.clause
    if response is None or _blank(response.channel) or response.deadline is None:
        missing = []
        if response is None or _blank(response.channel):
            missing.append("how to respond (an email or postal address)")
        if response is None or response.deadline is None:
            missing.append("a deadline")
        out.add("RESPONSE_OPPORTUNITY", "warning", clause,
                "The letter does not give the organisation " + " or ".join(missing)
                + " for its response. The Compact asks that organisations have the opportunity "
                "to respond.")
        return
    start = given or sent
    if response.deadline > effective:
        out.add("RESPONSE_OPPORTUNITY", "warning", clause,
                f"The response deadline ({long_date(response.deadline)}) falls after the change "
                f"takes effect ({long_date(effective)}), so a response could not change the outcome.")
    elif (response.deadline - start).days < out.profile.response.min_days:
        out.add("RESPONSE_OPPORTUNITY", "warning", clause,
                f"The response deadline ({long_date(response.deadline)}) leaves fewer than "
                f"{out.profile.response.min_days} days from the date notice is given.")


def _funding_term(out: _Findings, start: date | None, end: date | None, strategic: bool) -> None:
    rule = out.profile.funding_term
    if rule is None or start is None or end is None:
        return
    years = rule.strategic_min_years if strategic else rule.min_years
    if end < start:
        out.add("FUNDING_TERM", "error", rule.clause,
                "The funding end date is before its start date.")
    elif add_months(start, 12 * years) > end + _one_day:
        kind = "a strategic delivery partner's" if strategic else "the"
        out.add("FUNDING_TERM", "warning", rule.clause,
                f"{kind.capitalize()} funding agreement runs for less than {years} years; the Compact "
                f"asks for at least {years}-year agreements wherever possible.")


_one_day = date(2000, 1, 2) - date(2000, 1, 1)


def _check_service_change(letter: ServiceChangeLetter, out: _Findings,
                          dates: dict[str, date]) -> None:
    rule: ServiceNoticeRule = out.profile.service_notice
    _notice_period(out, letter.notice, rule.length, rule.unit, rule.clause, "vco", dates)
    plan = letter.plan
    if plan is None or (_blank(plan.summary) and not plan.actions):
        out.add("FUNDING_PLAN", "error", rule.plan_clause,
                "The notice gives no plan for meeting the funding objectives through the change.")
    end_plan = out.profile.funding_end_plan
    if letter.beneficiary_notice is None:
        out.add("BENEFICIARY_NOTICE", "warning", end_plan.clause,
                "The notice does not say when and how service users will be told of the change.")
    elif letter.beneficiary_notice.date > letter.notice.effective:
        out.add("BENEFICIARY_NOTICE", "error", end_plan.clause,
                "Service users are told after the change takes effect; give them early notice.")


_SECTION_NAMES = {
    "beneficiaries": "beneficiaries and how they are moved on",
    "beneficiary_notice": "notice to beneficiaries",
    "staff_and_volunteers": "staff and volunteers",
    "assets_and_funds": "contracts, assets and unspent funds",
    "records": "records and data",
    "communications": "communications",
    "risks": "risks",
    "milestones": "milestones",
    "options": "options",
}


def _check_funding_end_plan(letter: FundingEndPlan, out: _Findings, dates: dict[str, date]) -> None:
    rule = out.profile.funding_end_plan
    dates["funding_end"] = letter.funding_end
    for section in rule.required_sections:
        value = getattr(letter, section, None)
        empty = value is None or value == [] or (isinstance(value, str) and not value.strip())
        if section == "beneficiaries" and letter.beneficiaries is not None:
            empty = not letter.beneficiaries.transition
        if empty:
            name = _SECTION_NAMES.get(section, section.replace("_", " "))
            out.add("PLAN_SECTION", "error", rule.clause,
                    f"The plan has no section on {name} ({section}).")
    notice = letter.beneficiary_notice
    if notice is not None:
        latest = add_months(letter.funding_end, -rule.beneficiary_notice_months)
        dates["beneficiary_notice"] = notice.date
        dates["beneficiary_notice_latest"] = latest
        if notice.date > latest:
            out.add("BENEFICIARY_NOTICE", "warning", rule.clause,
                    f"Beneficiaries are told on {long_date(notice.date)}, less than "
                    f"{rule.beneficiary_notice_months} months before funding ends on "
                    f"{long_date(letter.funding_end)}; tell them by {long_date(latest)}.")
    late = [m for m in letter.milestones if m.date > letter.funding_end]
    for milestone in late:
        out.add("MILESTONES", "warning", rule.clause,
                f"The milestone '{milestone.action}' ({long_date(milestone.date)}) falls after "
                "funding ends; check it can be paid for.")


def _check_escalation(letter: EscalationLetter, out: _Findings, dates: dict[str, date]) -> None:
    profile = out.profile
    if letter.stage > profile.last_stage:
        out.add("STAGE", "error", profile.dispute.clause,
                f"{profile.short_name} has {profile.last_stage} dispute stages, not {letter.stage}.")
        return
    stage = profile.stage(letter.stage)
    if stage.entry == "commissioned" and not letter.organisation.commissioned:
        out.add("STAGE_ENTRY", "error", stage.others_clause or stage.clause,
                f"{letter.organisation.name} is not commissioned, so the Compact sends its dispute "
                "straight to stage 2; stage 1 informal resolution is for commissioned organisations.")
    if stage.entry == "escalation" and _blank(letter.policy_decision):
        out.add("POLICY_DECISION", "error", stage.clause,
                f"A stage {stage.number} referral must state the policy decision that is needed "
                "(policy_decision).")
    if stage.entry == "escalation":
        _referral(out, letter, stage.bodies, stage.clause)
    if stage.number > 1 and not letter.tried:
        needs = stage.number > 2 or letter.organisation.commissioned
        if needs:
            out.add("PRIOR_STAGE", "warning", stage.clause,
                    f"The letter does not say what was tried before stage {stage.number}; the "
                    "Compact expects the earlier stages to have been tried first.")
    if not letter.asks:
        out.add("ASKS", "warning", stage.clause,
                "The letter does not say what the organisation is asking for.")


def _referral(out: _Findings, letter: EscalationLetter, bodies: list[str], clause: str) -> None:
    """A policy referral names the bodies it goes to, among those the stage allows."""
    allowed = ", ".join(bodies)
    unknown = [b for b in letter.referred_to if b not in bodies]
    if unknown:
        out.add("REFERRAL", "error", clause,
                f"referred_to names {', '.join(unknown)}, which the Compact does not send a stage "
                f"{letter.stage} referral to (one or more of: {allowed}).")
    elif not letter.referred_to and len(bodies) > 1:
        out.add("REFERRAL", "error", clause,
                f"Say which body takes the policy decision (referred_to: one or more of {allowed}), so "
                "the letter is addressed to it.")


def _check_agreement(letter: AgreementLetter, out: _Findings, dates: dict[str, date]) -> None:
    profile = out.profile
    known = {c.number for c in profile.commitments}
    unknown = sorted(set(letter.commitments) - known)
    if unknown:
        out.add("COMMITMENTS", "error", "commitments",
                f"{profile.short_name} has no commitment {', '.join(map(str, unknown))}; its "
                f"commitments are {', '.join(map(str, sorted(known)))}.")
    missing = sorted(known - set(letter.commitments))
    if letter.commitments and missing:
        out.add("COMMITMENTS", "warning", "commitments",
                f"The agreement leaves out commitment {', '.join(map(str, missing))}; signatories "
                "normally sign up to all of them.")
    if not letter.commitments:
        out.add("COMMITMENTS", "error", "commitments",
                "The agreement does not list the commitments the body signs up to.")
    sector = letter.body.sector
    for undertaking in letter.undertakings:
        if undertaking not in ("shared", sector):
            theirs = "the statutory sector" if undertaking == "statutory" else "VCOs"
            own = "a statutory body" if sector == "statutory" else "a voluntary or community body"
            out.add("SECTOR", "error", "commitments",
                    f"{letter.body.name} is {own} but signs the undertakings for {theirs}.")
    if not letter.undertakings:
        out.add("SECTOR", "warning", "commitments",
                "The agreement does not say which undertakings are signed; the sector's own and "
                "the shared undertakings will be shown.")


_CHECKS: dict[str, Callable[[Any, _Findings, dict[str, date]], None]] = {
    "notice": _check_notice,
    "service-change": _check_service_change,
    "funding-end-plan": _check_funding_end_plan,
    "escalation": _check_escalation,
    "agreement": _check_agreement,
}


def check_letter(letter: Letter, profile: Profile | None = None) -> Report:
    """Check a validated letter against its profile (or the one given)."""
    profile = profile or load_profile(letter.profile)
    out = _Findings(profile)
    dates: dict[str, date] = {}
    try:
        _CHECKS[letter.kind](letter, out, dates)
    except (ValueError, OverflowError) as exc:  # a date so far out that the calendar ends
        raise InvalidData(f"a date in the letter is out of range for the notice rules: {exc}") from exc
    order = {"error": 0, "warning": 1}
    findings = sorted(out.items, key=lambda f: order[f.severity])
    return Report(kind=letter.kind, profile=profile.id, findings=findings, dates=dates)


def check(
    data: str | Path | Mapping[str, Any] | Letter,
    kind: str | None = None,
    profile: str | Path | Profile | None = None,
) -> Report:
    """Check a letter (a data file path, a mapping or a model) against the Compact.

    Raises InvalidData for bad data and ProfileError for an unknown or malformed profile.
    """
    letter = as_letter(data, kind)
    if isinstance(profile, Profile):
        chosen: Profile | None = profile
    else:
        chosen = load_profile(profile) if profile else None
    return check_letter(letter, chosen)
