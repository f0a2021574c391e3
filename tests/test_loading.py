"""Tests for compact_docs.loading and the models: bad data names the field and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compact_docs.errors import InvalidData
from compact_docs.examples import example_files
from compact_docs.loading import load_letter
from compact_docs.models import NoticeLetter

Example = Callable[[str], dict[str, Any]]


def test_every_example_loads() -> None:
    for path in example_files():
        letter = load_letter(Path(str(path)))
        assert letter.kind in path.name


def test_notice_keys_match_the_design(example: Example) -> None:
    letter = load_letter(example("notice"))
    assert isinstance(letter, NoticeLetter)
    assert letter.notice.delivery == "email"
    assert letter.funding.annual_value == 48000
    assert letter.notice.sent.hour == 10


def test_json_works_too(example: Example, tmp_path: Path) -> None:
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(example("notice")), encoding="utf-8")
    assert load_letter(path).kind == "notice"


def _error(data: dict[str, Any], kind: str | None = None) -> str:
    with pytest.raises(InvalidData) as info:
        load_letter(data, kind)
    return str(info.value)


def test_missing_field(example: Example) -> None:
    data = example("notice")
    del data["organisation"]["name"]
    assert "organisation.name: is required but missing" in _error(data)


def test_impossible_date(example: Example) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-30"
    message = _error(data)
    assert "notice.effective: is not a real date" in message
    assert "2027-02-30" in message


def test_impossible_date_in_yaml_file(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "compact_docs/examples/notice.yaml").read_text()
    path = tmp_path / "n.yaml"
    path.write_text(text.replace("effective: 2027-03-01", "effective: 2027-02-30"))
    with pytest.raises(InvalidData, match=r"n\.yaml: notice\.effective: is not a real date"):
        load_letter(path)


def test_unknown_delivery_method(example: Example) -> None:
    data = example("notice")
    data["notice"]["delivery"] = "pigeon"
    message = _error(data)
    assert "notice.delivery: must be one of" in message
    assert "'first-class-post'" in message
    assert "pigeon" in message


def test_wrong_type(example: Example) -> None:
    data = example("notice")
    data["funding"]["annual_value"] = "lots"
    assert "funding.annual_value: must be a number" in _error(data)
    data = example("notice")
    data["organisation"]["commissioned"] = "perhaps"
    assert "organisation.commissioned: must be true or false" in _error(data)


def test_misspelt_field(example: Example) -> None:
    data = example("notice")
    data["eai"] = data.pop("eia")
    message = _error(data)
    assert "eai: is not a field here (check the spelling); did you mean `eia`?" in message


def test_blank_required_text(example: Example) -> None:
    data = example("escalation-stage-1")
    data["issue"]["summary"] = "   "
    assert "issue.summary: must not be blank" in _error(data)


def test_kind_mismatch(example: Example) -> None:
    assert "is a 'notice' letter, not 'agreement'" in _error(example("notice"), "agreement")


def test_unknown_kind() -> None:
    assert "'memo' is not a letter kind" in _error({"kind": "memo"})


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InvalidData, match="expected a mapping"):
        load_letter(path, "notice")


def test_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kind: notice\nfunder: {name: [unclosed\n")
    with pytest.raises(InvalidData, match=r"broken\.yaml: not valid YAML or JSON"):
        load_letter(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidData, match="no such data file"):
        load_letter(tmp_path / "nope.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("kind: notice\nfunder: {name: Caf\xe9}\n".encode("latin-1"))
    with pytest.raises(InvalidData, match="not UTF-8"):
        load_letter(path)


def test_invalid_data_lists_each_problem_on_its_own_line_and_as_pairs(example: Example) -> None:
    data = example("notice")
    data["decision"]["rationle"] = data["decision"].pop("rationale")
    data["organisation"]["charity_number"] = 1098765
    data["organisation"]["contact"]["email"] = "jack@wellingyouthfc"
    data["notice"]["effective"] = "31/02/2027"
    with pytest.raises(InvalidData) as info:
        load_letter(data)
    error = info.value
    fields = [field for field, _ in error.problems]
    assert sorted(fields) == ["decision.rationle", "notice.effective", "organisation.charity_number",
                              "organisation.contact.email"]
    lines = str(error).splitlines()
    assert lines[0] == "data: 4 problems:" and len(lines) == 5
    problems = dict(error.problems)
    assert problems["decision.rationle"].endswith("did you mean `rationale`?")
    assert 'put it in quotes: "1098765"' in problems["organisation.charity_number"]
    assert "no real domain" in problems["organisation.contact.email"]
    assert "is not a real date" in problems["notice.effective"]


def test_uk_dates_and_money_read_as_a_spreadsheet_writes_them(example: Example) -> None:
    data = example("notice")
    data["funding"].update(annual_value="£48,000.00", start="01/04/2024", end="31/03/2027")
    data["notice"].update(sent="30/11/2026 10:00", effective="1 March 2027")
    letter = load_letter(data)
    assert isinstance(letter, NoticeLetter)
    assert str(letter.funding.annual_value) == "48000.00"
    assert letter.funding.start is not None and letter.funding.start.isoformat() == "2024-04-01"
    assert letter.notice.sent.isoformat() == "2026-11-30T10:00:00"
    assert letter.notice.effective.isoformat() == "2027-03-01"
    us_data = example("notice")
    us_data["funding"]["start"] = "04/01/2024"
    us = load_letter(us_data, date_locale="en-US")
    assert isinstance(us, NoticeLetter)
    assert us.funding.start is not None and us.funding.start.isoformat() == "2024-04-01"
    data["funding"]["annual_value"] = "£48,00"
    assert "commas only between thousands" in _error(data)


def test_a_notice_without_a_named_signatory_is_a_field_error(example: Example) -> None:
    data = example("notice")
    del data["funder"]["signatory"]
    with pytest.raises(InvalidData) as info:
        load_letter(data)
    assert [field for field, _ in info.value.problems] == ["funder.signatory"]
    assert "signed by a named person" in str(info.value)


def test_yaml_syntax_errors_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "notice.yaml"
    path.write_text("kind: notice\nfunder:\n  name: Bexley: the council\n", encoding="utf-8")
    with pytest.raises(InvalidData) as info:
        load_letter(path)
    message = str(info.value)
    assert "line 3, column" in message and "must be in quotes" in message
    assert "<unicode string>" not in message


def test_the_kind_comes_from_the_fields_or_the_file_name(example: Example, tmp_path: Path) -> None:
    data = example("notice")
    del data["kind"]
    assert load_letter(data).kind == "notice"                     # the fields fit only a notice
    data["decision"]["rationle"] = data["decision"].pop("rationale")
    path = tmp_path / "notice-bexley-age-well.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidData, match="did you mean `rationale`"):  # validated as a notice
        load_letter(path)
    with pytest.raises(InvalidData, match="kind: is required but missing"):
        load_letter({"organisation": {"name": "A"}})
