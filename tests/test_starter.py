"""compact-docs new and schema: a commented starter file that checks clean, and every field described."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import cli
from compact_docs.kinds import KINDS
from compact_docs.loading import load_letter


@pytest.mark.parametrize("kind", KINDS)
def test_new_prints_a_commented_file_that_checks_clean(kind: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new", kind])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith(f"# A {kind} letter's data")
    path = tmp_path / "mine.yaml"            # a name that does not say the kind: the file does
    path.write_text(text, encoding="utf-8")
    assert load_letter(path).kind == kind
    checked = CliRunner().invoke(cli, ["check", kind, str(path)])
    assert checked.exit_code == 0, checked.output


def test_new_comments_every_field() -> None:
    text = CliRunner().invoke(cli, ["new", "notice"]).output
    for field in ("decided_on (required): The date the decision was taken",
                  "instrument (optional): How the money is given",
                  "can_change (optional): What a response can still change",
                  "organisation_duties (optional): What the organisation is asked to do",
                  "# exceptional_circumstances (optional)"):
        assert f"# {field}" in text or field in text, field
    assert "    # phone: \n" in text                  # an optional field left out, commented out


def test_new_escalation_at_a_stage() -> None:
    text = CliRunner().invoke(cli, ["new", "escalation", "--stage", "3"]).output
    assert "stage: 3" in text and "referred_to: [strategic-commissioning-board]" in text


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = list(schema.get("properties", {}).items())
    for definition in schema.get("$defs", {}).values():
        found += list(definition.get("properties", {}).items())
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_schema_describes_every_field(kind: str) -> None:
    result = CliRunner().invoke(cli, ["schema", kind])
    schema = json.loads(result.output)
    missing = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert missing == []
    props = dict(_properties(schema))
    if kind == "notice":
        assert "new value a year" in props["new_annual_value"]["description"]
        assert "What a response can still change" in props["can_change"]["description"]
