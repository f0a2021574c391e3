"""Tests for compact_docs.loading and the models: bad data names the field and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testdata import BATCH, EXAMPLES, HOSTILE_LETTERS, ROOT

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


@pytest.mark.parametrize(("kind", "field", "value", "said"), [
    ("notice", "notice.effective", "2027-02-30", ["notice.effective: is not a real date", "2027-02-30"]),
    ("notice", "notice.delivery", "pigeon", ["notice.delivery: must be one of", "'first-class-post'", "pigeon"]),
    ("notice", "funding.annual_value", "lots", ["funding.annual_value: must be a number"]),
    ("notice", "organisation.commissioned", "perhaps", ["organisation.commissioned: must be true or false"]),
    ("escalation-stage-1", "issue.summary", "   ", ["issue.summary: must not be blank"]),
], ids=["impossible-date", "unknown-delivery", "not-a-number", "not-a-yes-or-no", "blank-text"])
def test_a_bad_value_is_named_with_its_field(example: Example, kind: str, field: str, value: str,
                                             said: list[str]) -> None:
    data = example(kind)
    section, name = field.split(".")
    data[section][name] = value
    message = _error(data)
    assert [part for part in said if part not in message] == []


def test_impossible_date_in_yaml_file(tmp_path: Path) -> None:
    text = (EXAMPLES / "notice.yaml").read_text()
    path = tmp_path / "n.yaml"
    path.write_text(text.replace("effective: 2027-03-01", "effective: 2027-02-30"))
    with pytest.raises(InvalidData, match=r"n\.yaml: notice\.effective: is not a real date"):
        load_letter(path)


def test_misspelt_field(example: Example) -> None:
    data = example("notice")
    data["eai"] = data.pop("eia")
    message = _error(data)
    assert "eai: is not a field here (check the spelling); did you mean `eia`?" in message


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


HOSTILE = HOSTILE_LETTERS


def _command(*args: str, timeout: float = 60) -> Any:
    """Run compact-docs in a process of at most 1 GB, so a hostile file cannot take the machine."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, cwd=ROOT)


def test_a_billion_laughs_is_refused_fast_also_as_defaults(tmp_path: Path) -> None:
    import time

    laughs = HOSTILE / "billion-laughs.yaml"
    assert laughs.stat().st_size < 400
    start = time.monotonic()
    checked = _command("check", "notice", str(laughs), timeout=30)
    assert (checked.returncode, checked.stdout) == (2, "")
    assert checked.stderr.count("\n") == 1 and "aliases expand to more than 100,000 values" in checked.stderr
    batch = _command("batch", "notice", str(BATCH / "register.csv"), "--defaults", str(laughs),
                     "-o", str(tmp_path / "out"), "--format", "docx", "--workers", "1", timeout=30)
    assert batch.returncode == 2 and "aliases expand" in batch.stderr and batch.stderr.count("\n") == 1
    assert time.monotonic() - start < 30
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.docx"))


def test_aliases_that_refer_to_themselves_are_refused() -> None:
    from compact_docs.loading import parse_text

    with pytest.raises(InvalidData, match="refers to the value it is part of"):
        parse_text("a: &a [1, *a]\n", "self.yaml")
    assert parse_text("base: &b {x: 1}\nrow: {<<: *b, x: 2}\n", "merge.yaml") == {
        "base": {"x": 1}, "row": {"x": 2}}  # a merge may override a key: not a duplicate


@pytest.mark.parametrize("args", [
    ["check", "notice", str(HOSTILE / "deep-nesting.yaml")],
    ["check", "notice", str(HOSTILE / "deep-nesting.json")],
    ["notice", str(HOSTILE / "deep-nesting.yaml"), "-o", "{out}"],
    ["batch", "notice", str(HOSTILE / "deep-rows.jsonl"), "-o", "{out}"],
    ["batch", "notice", str(BATCH / "register.csv"), "--defaults", str(HOSTILE / "deep-nesting.yaml"),
     "-o", "{out}"],
    ["check", "notice", str(ROOT / "compact_docs" / "examples" / "notice.yaml"), "--profile",
     str(HOSTILE / "deep-profile.toml")],
])
def test_deep_nesting_exits_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(cli, [a.replace("{out}", str(tmp_path / "out")) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "nested" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", ["non-finite-notice.yaml", "non-finite-notice.json"])
def test_non_finite_money_is_refused_at_validation_naming_the_field(name: str) -> None:
    result = _command("check", "notice", str(HOSTILE / name))
    assert result.returncode == 2
    assert "funding.annual_value: must be" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "'NaN'", "1e13"])
def test_other_non_finite_or_absurd_amounts_are_refused(value: str, example: Example, tmp_path: Path) -> None:
    import yaml as pyyaml

    data = example("notice")
    data["decision"]["action"] = "reduce"
    data["decision"]["new_annual_value"] = pyyaml.safe_load(value)
    with pytest.raises(InvalidData, match=r"decision\.new_annual_value: must be"):
        load_letter(data)


@pytest.mark.parametrize(("name", "key"), [("duplicate-keys-notice.yaml", "'name'"),
                                           ("duplicate-keys-notice.json", "'kind'")])
def test_duplicate_keys_are_refused_naming_the_key(name: str, key: str) -> None:
    with pytest.raises(InvalidData, match=f"key {key} appears twice"):
        load_letter(HOSTILE / name)


def test_duplicate_keys_in_json_lines_refuse_the_file(tmp_path: Path) -> None:
    from compact_docs.rows import read_rows

    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"organisation": {"name": "A", "name": "B"}}\n', encoding="utf-8")
    with pytest.raises(InvalidData, match=r"rows\.jsonl: line 1: key 'name' appears twice"):
        list(read_rows(rows, "notice"))


def test_an_oversized_data_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    import time

    from compact_docs.rows import read_rows

    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB that take no disk
    start = time.monotonic()
    with pytest.raises(InvalidData, match=r"huge\.yaml: the data file is 100\.0 MB, more than the 1\.0 MB"):
        load_letter(huge)
    rows = huge.rename(tmp_path / "huge.csv")
    with pytest.raises(InvalidData, match=r"huge\.csv: the rows file is 100\.0 MB, more than the 32\.0 MB"):
        list(read_rows(rows, "notice"))
    assert time.monotonic() - start < 2
    result = _command("check", "notice", "/dev/zero", timeout=30)
    assert result.returncode == 2 and "more than the 1.0 MB" in result.stderr


def test_directional_overrides_never_reach_a_letter(tmp_path: Path) -> None:
    from pypdf import PdfReader

    import compact_docs

    letter = load_letter(HOSTILE / "bidi-notice.yaml")
    assert isinstance(letter, NoticeLetter)
    assert letter.funding.reference == "LBB-GR-710-4202"
    assert letter.organisation.name == "Bexley Age Well"
    result = compact_docs.render(HOSTILE / "bidi-notice.yaml", out_dir=tmp_path)
    assert [p.name for p in result.files] == ["lbb-gr-710-4202_bexley-age-well_notice.docx",
                                              "lbb-gr-710-4202_bexley-age-well_notice.pdf"]
    text = "".join(page.extract_text() for page in PdfReader(str(result.files[1])).pages)
    assert "LBB-GR-710-4202" in text
    assert not any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
