"""Tests for compact_docs.rules.checks: every finding code fires when it should and not otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from testdata import PROFILES

from compact_docs.rules.checks import Report, check

Example = Callable[[str], dict[str, Any]]


def codes(report: Report, severity: str | None = None) -> set[str]:
    return {f.code for f in report.findings if severity is None or f.severity == severity}


def severity_and_clause(report: Report, code: str) -> tuple[str, str]:
    """The severity of the report's (first) finding with this code, and the clause it cites."""
    found = next(f for f in report.findings if f.code == code)
    return found.severity, found.clause


@pytest.mark.parametrize(
    "name",
    ["notice", "service-change", "funding-end-plan", "escalation-stage-1", "escalation-stage-2",
     "escalation-stage-3", "agreement"],
)
def test_examples_are_compliant_with_no_findings(example: Example, name: str) -> None:
    report = check(example(name))
    assert report.compliant
    assert report.findings == []


def test_notice_dates(example: Example) -> None:
    report = check(example("notice"))
    assert report.dates == {
        "notice_given": date(2026, 11, 30),
        "earliest_effective": date(2027, 2, 28),
        "effective": date(2027, 3, 1),
    }


def test_short_notice_is_an_error_citing_the_clause(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-15"
    report = check(data)
    assert not report.compliant
    (finding,) = report.findings
    assert finding.code == "NOTICE_PERIOD"
    assert finding.severity == "error"
    assert finding.clause == "Commitment 2, statutory undertaking 2"
    assert "Sunday 28 February 2027" in finding.message
    assert "13 days short" in finding.message


def test_effective_on_earliest_date_is_compliant(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-28"
    assert "NOTICE_PERIOD" not in codes(check(data))


def test_post_moves_the_deemed_date(example: Example) -> None:
    data = example("notice")
    data["notice"]["delivery"] = "second-class-post"  # Mon 30 Nov -> Fri 4 Dec 2026
    report = check(data)
    assert report.dates["notice_given"] == date(2026, 12, 4)
    assert "NOTICE_PERIOD" in codes(report, "error")


def test_exceptional_circumstances_with_reason_downgrade_to_warning(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-01-04"
    data["notice"]["exceptional_circumstances"] = "The building failed its fire safety inspection."
    data["response"]["deadline"] = "2026-12-18"
    report = check(data)
    assert report.compliant
    assert codes(report, "warning") == {"NOTICE_PERIOD"}
    assert "fire safety" in report.findings[0].message


@pytest.mark.parametrize("claim", ["", "   ", True])
def test_exceptional_circumstances_without_reason(example: Example, claim: object) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-01-04"
    data["notice"]["exceptional_circumstances"] = claim
    report = check(data)
    assert {"EXCEPTIONAL_REASON", "NOTICE_PERIOD"} <= codes(report, "error")


@pytest.mark.parametrize("rationale", [None, "", "  \n "])
def test_missing_rationale(example: Example, rationale: str | None) -> None:
    data = example("notice")
    data["decision"]["rationale"] = rationale
    assert severity_and_clause(check(data), "RATIONALE") == ("error", "Commitment 2, statutory undertaking 2")


def test_thin_rationale_is_a_warning(example: Example) -> None:
    data = example("notice")
    data["decision"]["rationale"] = "Budget cuts."
    assert codes(check(data)) == {"RATIONALE"}
    assert check(data).compliant


@pytest.mark.parametrize("action", ["end", "reduce", "vary"])
def test_missing_eia_for_funding_changes(example: Example, action: str) -> None:
    data = example("notice")
    data["decision"]["action"] = action
    data["decision"]["new_annual_value"] = 24000
    data["eia"] = None
    assert severity_and_clause(check(data), "EIA") == ("error", "Commitment 4, statutory undertaking 2")


def test_national_profile_does_not_require_eia_for_variation(example: Example) -> None:
    data = example("notice")
    data["profile"] = "national"
    data["decision"]["action"] = "vary"
    data["eia"] = None
    report = check(data)
    assert "EIA" not in codes(report)
    assert report.profile == "national"


def test_eia_after_decision_is_an_error_citing_both_clauses(example: Example) -> None:
    data = example("notice")
    data["eia"]["date"] = "2026-11-25"
    report = check(data)
    assert codes(report, "error") == {"EIA"}
    assert not report.compliant
    finding = report.errors[0]
    assert finding.clause == "Commitment 2, statutory undertaking 5"
    assert "Commitment 4, statutory undertaking 2" in finding.message
    assert "eia.date" in finding.message and "decision.decided_on" in finding.message


def test_decision_after_the_notice_is_sent_is_an_error(example: Example) -> None:
    data = example("notice")
    data["decision"]["decided_on"] = "2026-12-10"     # notice sent 30 November
    report = check(data)
    assert codes(report, "error") == {"DECISION"}
    finding = report.errors[0]
    assert finding.clause == "Commitment 2, statutory undertaking 2"
    assert "decision.decided_on" in finding.message and "notice.sent" in finding.message


def test_letter_dated_before_the_decision_is_an_error(example: Example) -> None:
    data = example("notice")
    data["date"] = "2026-11-18"                      # decided 20 November, sent 30 November
    report = check(data)
    assert codes(report, "error") == {"DECISION"}
    assert "(date)" in report.errors[0].message


@pytest.mark.parametrize("new_value", ["40,000", "£36,000.00"])
def test_a_reduction_to_no_less_than_the_current_value_is_an_error(example: Example,
                                                                     new_value: str) -> None:
    data = example("notice")
    data["funding"]["annual_value"] = 36000
    data["decision"].update(action="reduce", new_annual_value=new_value)
    report = check(data)
    assert codes(report, "error") == {"DECISION"}
    message = report.errors[0].message
    assert "decision.new_annual_value" in message and "funding.annual_value" in message
    assert report.errors[0].clause == "Commitment 2, statutory undertaking 2"


def test_a_real_reduction_is_compliant(example: Example) -> None:
    data = example("notice")
    data["decision"].update(action="reduce", new_annual_value="£33,600.00")
    assert check(data).findings == []


def test_missing_engagement_is_a_warning_by_default(example: Example) -> None:
    data = example("notice")
    del data["decision"]["engagement"]
    report = check(data)
    assert codes(report) == {"ENGAGEMENT"}
    finding = report.findings[0]
    assert finding.severity == "warning" and report.compliant
    assert finding.clause == "Commitment 2, statutory undertaking 5"
    assert "decision.engagement" in finding.message


def test_the_profile_sets_the_engagement_severity(example: Example, tmp_path: Path) -> None:
    bundled = (PROFILES / "bexley.toml").read_text(encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text(bundled.replace('id = "bexley"', 'id = "strict"').replace(
        'clause = "c2.statutory.5"\nseverity = "warning"', 'clause = "c2.statutory.5"\nseverity = "error"'))
    data = example("notice")
    del data["decision"]["engagement"]
    report = check(data, profile=strict)
    assert codes(report, "error") == {"ENGAGEMENT"} and not report.compliant


def test_the_rationale_finding_names_the_field(example: Example) -> None:
    data = example("notice")
    data["decision"]["rationale"] = None
    assert "decision.rationale" in check(data).errors[0].message


def test_response_opportunity(example: Example) -> None:
    data = example("notice")
    data["response"] = None
    report = check(data)
    assert codes(report) == {"RESPONSE_OPPORTUNITY"}
    assert report.compliant
    assert report.findings[0].severity == "warning"
    # the right to respond after the decision is the notice's response window, not statutory 5
    assert report.findings[0].clause == ("the notice's response window "
                                         "(Commitment 2, statutory undertaking 2)")
    data["response"] = {"channel": "commissioning@bexley.example"}
    assert "a deadline" in check(data).findings[0].message
    data["response"] = {"channel": "x@y.example", "deadline": "2027-04-01"}
    assert "after the change takes effect" in check(data).findings[0].message
    data["response"] = {"channel": "x@y.example", "deadline": "2026-12-03"}
    assert "fewer than 14 days" in check(data).findings[0].message


def test_short_funding_term_is_a_warning(example: Example) -> None:
    data = example("notice")
    data["funding"]["start"] = "2026-04-01"
    report = check(data)
    assert codes(report) == {"FUNDING_TERM"}
    assert report.findings[0].clause == "Commitment 3, statutory undertaking 1"
    data["funding"]["start"] = "2024-04-01"
    data["funding"]["strategic"] = True
    assert "strategic" in check(data).findings[0].message


def test_reduction_without_new_value(example: Example) -> None:
    data = example("notice")
    data["decision"]["action"] = "reduce"
    assert codes(check(data)) == {"DECISION"}


def test_short_service_change_notice(example: Example) -> None:
    data = example("service-change")
    data["notice"]["effective"] = "2027-02-01"
    assert severity_and_clause(check(data), "SERVICE_NOTICE_PERIOD") == ("error", "Commitment 2, VCO undertaking 2")


def test_service_change_without_plan(example: Example) -> None:
    data = example("service-change")
    data["plan"] = None
    assert codes(check(data), "error") == {"FUNDING_PLAN"}


def test_service_change_beneficiaries_told_late(example: Example) -> None:
    data = example("service-change")
    data["beneficiary_notice"]["date"] = "2027-05-01"
    assert codes(check(data), "error") == {"BENEFICIARY_NOTICE"}
    data["beneficiary_notice"] = None
    assert codes(check(data), "warning") == {"BENEFICIARY_NOTICE"}


@pytest.mark.parametrize(
    "section",
    ["beneficiaries", "beneficiary_notice", "staff_and_volunteers", "assets_and_funds", "records",
     "communications", "risks", "milestones"],
)
def test_funding_end_plan_missing_section(example: Example, section: str) -> None:
    data = example("funding-end-plan")
    del data[section]
    report = check(data)
    assert not report.compliant
    (finding,) = report.findings
    assert finding.code == "PLAN_SECTION"
    assert section in finding.message
    assert finding.clause == "Commitment 2, VCO undertaking 5"


def test_funding_end_plan_late_beneficiary_notice_and_milestone(example: Example) -> None:
    data = example("funding-end-plan")
    data["beneficiary_notice"]["date"] = "2027-01-10"
    data["milestones"].append({"date": "2027-06-01", "action": "Final report"})
    report = check(data)
    assert codes(report, "warning") == {"BENEFICIARY_NOTICE", "MILESTONES"}
    assert report.dates["beneficiary_notice_latest"] == date(2026, 12, 1)


def test_stage_1_from_non_commissioned_organisation(example: Example) -> None:
    data = example("escalation-stage-1")
    data["organisation"]["commissioned"] = False
    report = check(data)
    assert codes(report, "error") == {"STAGE_ENTRY"}
    assert report.findings[0].clause == "Conflict Resolution, stage 1.2"


def test_stage_2_from_non_commissioned_needs_nothing_tried(example: Example) -> None:
    data = example("escalation-stage-2")
    data["organisation"]["commissioned"] = False
    data["tried"] = []
    assert check(data).findings == []
    data["organisation"]["commissioned"] = True
    assert codes(check(data)) == {"PRIOR_STAGE"}


def test_stage_3_without_policy_decision(example: Example) -> None:
    data = example("escalation-stage-3")
    data["policy_decision"] = " "
    report = check(data)
    assert codes(report, "error") == {"POLICY_DECISION"}
    assert report.findings[0].clause == "Conflict Resolution, stage 3"


def test_escalation_without_asks_and_unknown_stage(example: Example) -> None:
    data = example("escalation-stage-1")
    data["asks"] = []
    assert codes(check(data)) == {"ASKS"}
    data["stage"] = 4
    assert codes(check(data), "error") == {"STAGE"}


def test_agreement_sector_mismatch(example: Example) -> None:
    data = example("agreement")
    data["undertakings"] = ["statutory", "shared"]
    report = check(data)
    assert codes(report, "error") == {"SECTOR"}
    assert "signs the undertakings for the statutory sector" in report.findings[0].message


def test_agreement_commitments(example: Example) -> None:
    data = example("agreement")
    data["commitments"] = [1, 2, 7]
    report = check(data)
    assert codes(report, "error") == {"COMMITMENTS"}
    assert codes(report, "warning") == {"COMMITMENTS"}
    data["commitments"] = []
    assert codes(check(data), "error") == {"COMMITMENTS"}


def test_report_json_contract(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-15"
    out = check(data).to_dict()
    assert out["kind"] == "notice"
    assert out["profile"] == "bexley"
    assert out["compliant"] is False
    assert out["findings"][0].keys() == {"code", "severity", "clause", "message"}
    assert out["dates"] == {"notice_given": "2026-11-30", "earliest_effective": "2027-02-28",
                            "effective": "2027-02-15"}


def test_profile_argument_overrides_data(example: Example) -> None:
    report = check(example("notice"), profile="national")
    assert report.profile == "national"


@pytest.mark.parametrize("placeholder", ["none", "N/A", "-", "nil"])
def test_placeholder_exceptional_circumstances_mean_none_claimed(example: Example, placeholder: str) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-01-15"
    data["notice"]["exceptional_circumstances"] = placeholder
    report = check(data)
    assert not report.compliant
    assert severity_and_clause(report, "NOTICE_PERIOD")[0] == "error"
    assert "EXCEPTIONAL_REASON" not in codes(report)


@pytest.mark.parametrize("placeholder", ["TBC", "yes", "x"])
def test_claimed_exceptional_circumstances_without_words(example: Example, placeholder: str) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-01-15"
    data["notice"]["exceptional_circumstances"] = placeholder
    assert "EXCEPTIONAL_REASON" in codes(check(data), "error")


def test_far_dates_are_bad_data_not_a_crash(example: Example) -> None:
    from compact_docs.errors import InvalidData

    data = example("notice")
    data["notice"]["sent"] = "9999-12-31T10:00"
    with pytest.raises(InvalidData, match=r"notice\.sent: must be a year between 1900 and 2200"):
        check(data)


def test_relative_profile_path_is_read_beside_the_data_file(example: Example, tmp_path: Any) -> None:
    from importlib import resources

    import yaml

    folder = tmp_path / "data"
    folder.mkdir()
    national = resources.files("compact_docs").joinpath("profiles", "national.toml")
    (folder / "mytown.toml").write_bytes(national.read_bytes())
    data = example("notice")
    data["profile"] = "mytown.toml"
    path = folder / "notice.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert check(path).profile == "national"  # found beside the data, whatever the working folder
