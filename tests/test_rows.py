"""Tests for compact_docs.rows: CSV with dotted headers and lists, defaults, YAML/JSON/JSONL rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compact_docs.errors import InvalidData
from compact_docs.loading import load_letter
from compact_docs.models import NoticeLetter
from compact_docs.rows import merge_defaults, read_rows, unflatten

DATA = Path(__file__).resolve().parent / "data" / "batch"


def test_csv_dotted_headers_lists_and_defaults() -> None:
    rows = list(read_rows(DATA / "register.csv", "notice", DATA / "defaults.yaml"))
    assert [r.number for r in rows] == [2, 3, 4]  # as Excel shows them: the header is row 1
    second = load_letter(rows[1].data, "notice")
    assert isinstance(second, NoticeLetter)
    assert second.organisation.address == ["The Old Library", "3 Crayford Road", "Crayford", "DA1 4AB"]
    assert second.support[-1] == "A transition grant of £1,000"
    assert second.organisation.commissioned is True
    assert second.funder.name == "London Borough of Bexley"  # from the defaults
    first = load_letter(rows[0].data, "notice")
    assert first.support == ["A meeting with the commissioner", "Help from BVSC with other funding"]
    # A quoted cell keeps its comma.
    assert load_letter(rows[2].data, "notice").organisation.address[0] == "Unit 2, Riverside Works"


def test_merge_is_deep_and_the_row_wins() -> None:
    merged = merge_defaults({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]})
    assert merged == {"a": {"b": 1, "c": 3}, "d": [2]}


def test_unflatten_skips_empty_cells_and_refuses_clashes() -> None:
    assert unflatten({"organisation.name": "X", "eia.reference": " "}, "notice", "w") == {
        "organisation": {"name": "X"}}
    with pytest.raises(InvalidData, match="clashes"):
        unflatten({"funder": "X", "funder.name": "Y"}, "notice", "row 1")
    with pytest.raises(InvalidData, match="not a dotted field path"):
        unflatten({"funder..name": "Y"}, "notice", "row 1")


def test_yaml_json_and_jsonl_rows(tmp_path: Path) -> None:
    rows = [{"organisation": {"name": "A"}}, {"organisation": {"name": "B"}}]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "rows.yaml").write_text("rows:\n  - organisation: {name: A}\n  - organisation: {name: B}\n")
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    for name in ("rows.json", "rows.yaml", "rows.jsonl"):
        got = list(read_rows(tmp_path / name, "notice", {"funder": {"name": "F"}}))
        assert [r.data["organisation"]["name"] for r in got] == ["A", "B"]
        assert all(r.data["funder"] == {"name": "F"} for r in got)


def test_windows_1252_csv(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("organisation.name,support\nCaf\xe9 Club,Grant of \xa3500\n".encode("cp1252"))
    (row,) = read_rows(path, "notice")
    assert row.data == {"organisation": {"name": "Café Club"}, "support": ["Grant of £500"]}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such rows file"),
        ("rows.txt", "x", "unknown rows format"),
        ("empty.csv", "", "no header row"),
        ("dup.csv", "a,a\n1,2\n", "appears twice"),
        ("bad.jsonl", '{"a": 1}\n{oops\n', "line 2 is not valid JSON"),
        ("scalar.yaml", "just text", "expected a list of rows"),
    ],
)
def test_unreadable_input(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidData, match=message):
        list(read_rows(path, "notice"))
