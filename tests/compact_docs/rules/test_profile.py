"""Tests for compact_docs.rules.profile: bundled profiles, user profiles and malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from testdata import PROFILES

from compact_docs.errors import ProfileError
from compact_docs.rules.profile import bundled_profile_names, load_profile

BEXLEY = PROFILES / "bexley.toml"


def test_bundled_profiles() -> None:
    assert bundled_profile_names() == ["bexley", "national"]


def test_bexley_rules_are_the_compacts() -> None:
    p = load_profile()
    assert p.id == "bexley"
    assert (p.notice.length, p.notice.unit) == (3, "months")
    assert p.cite(p.notice.clause) == "Commitment 2, statutory undertaking 2"
    assert p.cite(p.eia.clause) == "Commitment 4, statutory undertaking 2"
    assert p.cite(p.service_notice.clause) == "Commitment 2, VCO undertaking 2"
    assert [s.entry for s in p.dispute.stages] == ["commissioned", "any", "escalation"]
    assert p.body("bvsc-bexley") is not None
    assert p.case_prefix == "BXC"
    assert len(p.commitments) == 4
    # The notice clause quotes the Compact's own words.
    assert "three-months' notice in writing" in p.clause_text("c2.statutory.2")


def test_national_profile_differs() -> None:
    p = load_profile("national")
    assert p.consultation is not None
    assert (p.consultation.length, p.consultation.unit) == (12, "weeks")
    assert "vary" not in p.notice.applies_to
    assert p.case_prefix != load_profile("bexley").case_prefix


def test_user_profile_by_path(tmp_path: Path) -> None:
    text = BEXLEY.read_text(encoding="utf-8").replace('id = "bexley"', 'id = "mytown"')
    text = text.replace("length = 3\nunit = \"months\"\napplies_to", "length = 6\nunit = \"months\"\napplies_to")
    path = tmp_path / "mytown.toml"
    path.write_text(text, encoding="utf-8")
    p = load_profile(path)
    assert p.id == "mytown"
    assert p.notice.length == 6


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("[notice]", "[notice"), "not valid TOML"),
        (lambda t: t.replace('unit = "months"\napplies_to', 'unit = "fortnights"\napplies_to', 1),
         "notice.unit"),
        (lambda t: t.replace('clause = "c2.statutory.2"\nexception', 'clause = "c9.x"\nexception', 1),
         "c9.x"),
        (lambda t: t.replace('case_prefix = "BXC"', 'case_prefix = "bx c"'), "case_prefix"),
        (lambda t: t.replace('cutoff = "17:00"', 'cutoff = "five pm"'), "deemed_service.cutoff"),
        # "\b" in a double-quoted TOML string is a backspace: the pattern would never match
        (lambda t: t.replace('"\\\\b(?:haven', '"\\b(?:haven', 1), "holds a backspace character"),
    ],
)
def test_malformed_profile_is_refused_clearly(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(change(BEXLEY.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_profile_name() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'narnia'.*bexley, national"):
        load_profile("narnia")
