"""Tests for the foundation commands of the CLI: check, schema, profiles, and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli import cli

Example = Callable[[str], dict[str, Any]]
WriteYaml = Callable[..., Path]


def test_check_compliant(runner: CliRunner, example: Example, write_yaml: WriteYaml) -> None:
    result = runner.invoke(cli, ["check", "notice", str(write_yaml(example("notice")))])
    assert result.exit_code == 0, result.output
    assert "compliant" in result.output
    assert "notice given: Mon 30 Nov 2026" in result.output


def test_check_json_contract(runner: CliRunner, example: Example, write_yaml: WriteYaml) -> None:
    data = example("notice")
    data["notice"]["effective"] = "2027-02-15"
    result = runner.invoke(cli, ["check", "notice", str(write_yaml(data)), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["compliant"] is False
    assert out["findings"][0]["code"] == "NOTICE_PERIOD"
    assert out["dates"]["earliest_effective"] == "2027-02-28"


def test_check_bad_data_exits_2_with_one_line(runner: CliRunner, example: Example,
                                              write_yaml: WriteYaml) -> None:
    data = example("notice")
    data["notice"]["delivery"] = "carrier pigeon"
    result = runner.invoke(cli, ["check", "notice", str(write_yaml(data))])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert "notice.delivery" in lines[0]


def test_check_unknown_profile_exits_2(runner: CliRunner, example: Example,
                                       write_yaml: WriteYaml) -> None:
    path = str(write_yaml(example("notice")))
    result = runner.invoke(cli, ["check", "notice", path, "--profile", "atlantis"])
    assert result.exit_code == 2
    assert "unknown profile 'atlantis'" in result.output


def test_check_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["check", "notice", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "no such data file" in result.output


def test_check_unknown_kind_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["check", "memo", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert "memo" in result.output


def test_schema(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["schema", "notice"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema["required"]) >= {"funder", "organisation", "funding", "decision", "notice"}


def test_profiles(runner: CliRunner) -> None:
    listed = runner.invoke(cli, ["profiles", "list"])
    assert listed.exit_code == 0
    assert "bexley" in listed.output
    assert "national" in listed.output
    shown = runner.invoke(cli, ["profiles", "show", "bexley"])
    assert shown.exit_code == 0
    assert "Commitment 2, statutory undertaking 2" in shown.output
    assert "BXC-YYYY-NNNN" in shown.output
    as_json = runner.invoke(cli, ["profiles", "show", "national", "--json"])
    assert json.loads(as_json.output)["id"] == "national"
    assert runner.invoke(cli, ["profiles", "show", "nowhere"]).exit_code == 2
