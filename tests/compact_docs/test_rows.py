"""Tests for compact_docs.rows: CSV with dotted headers and lists, defaults, YAML/JSON/JSONL rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testdata import BATCH, HOSTILE_LETTERS

from compact_docs.errors import InvalidData
from compact_docs.loading import load_letter
from compact_docs.models import NoticeLetter
from compact_docs.rows import merge_defaults, read_rows, unflatten

DATA = BATCH


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


HOSTILE = HOSTILE_LETTERS


@pytest.mark.parametrize("name", ["utf8-bom-register.csv", "utf16-register.csv", "cp1252-register.csv"])
def test_a_register_is_read_in_its_one_encoding(name: str) -> None:
    rows = list(read_rows(HOSTILE / name, "notice"))
    assert [r.data["organisation"]["name"] for r in rows] == ["Café Club", "Crèche Crayford"]
    assert "A transition grant of £1,000" in rows[1].data["support"]
    assert all("\ufffd" not in json.dumps(r.data, ensure_ascii=False) for r in rows)


def test_a_register_mixing_encodings_is_refused_naming_the_line() -> None:
    with pytest.raises(InvalidData) as caught:
        list(read_rows(HOSTILE / "mixed-encoding.csv", "notice"))
    message = str(caught.value)
    assert "mixed-encoding.csv: line 3 (byte 0xE8) is not UTF-8, though line 2 is UTF-8" in message
    assert "save it again as UTF-8" in message


def test_a_byte_that_is_text_in_no_encoding_is_refused_naming_the_line() -> None:
    with pytest.raises(InvalidData, match=r"line 2 \(byte 0x81\) is neither UTF-8 nor Windows-1252"):
        list(read_rows(HOSTILE / "undefined-byte.csv", "notice"))


def test_utf16_without_a_byte_order_mark_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes("organisation.name\nCafé\n".encode("utf-16-le"))
    with pytest.raises(InvalidData, match="UTF-16 without a byte-order mark"):
        list(read_rows(path, "notice"))


def test_the_cli_reads_a_utf16_register(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(cli, ["batch", "notice", str(HOSTILE / "utf16-register.csv"), "--defaults",
                                      str(DATA / "defaults.yaml"), "-o", str(tmp_path), "--format", "docx",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.docx")) == [
        "lbb-fsf-2025-004_creche-crayford_notice.docx", "lbb-gr-2024-017_cafe-club_notice.docx"]


def test_a_long_csv_cell_refuses_only_its_row(tmp_path: Path) -> None:
    import csv

    path = tmp_path / "long.csv"
    text = (DATA / "register.csv").read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*next(csv.reader([text[0]])), "decision.rationale"])
        # Over the csv module's own limit (131,072), then over compact-docs' (MAX_CELL_CHARS, 200,000).
        for line, rationale in zip(text[1:], ["x" * 131_073, "Short.", "y" * 200_001], strict=True):
            writer.writerow([*next(csv.reader([line])), rationale])
    rows = list(read_rows(path, "notice", DATA / "defaults.yaml"))
    assert [r.problem is None for r in rows] == [True, True, False]
    assert len(rows[0].data["decision"]["rationale"]) == 131_073
    assert rows[2].problem is not None
    assert "the decision.rationale cell has 200,001 characters" in rows[2].problem
