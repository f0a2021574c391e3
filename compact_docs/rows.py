"""Rows of a grants-register export (CSV with dotted headers, YAML/JSON lists, JSON Lines) as letter data."""

from __future__ import annotations

import csv
import io
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from compact_docs.data_files import MAX_ROWS_FILE_BYTES, decode_text, read_capped
from compact_docs.errors import InvalidData
from compact_docs.loading import parse_json, parse_text, read_data_file
from compact_docs.models import model_for

LIST_SEPARATOR = " | "


def column_letter(index: int) -> str:
    """The spreadsheet column of a 0-based index: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class Row:
    """One row of input: its number, where it came from, and its data (defaults merged).

    The number is the one a person sees: in a CSV file the row as Excel shows it (the header is
    row 1, so the first data row is row 2), in a YAML or JSON list the item's place from 1.
    `columns` maps a CSV file's field headers to their column letters. `problem` says why a row
    could not even be read as data (such as a CSV row with more cells than headers); such a row is
    refused and reported, never dropped.
    """

    number: int
    source: str
    data: Any
    problem: str | None = None
    columns: Mapping[str, str] | None = None

    def column_of(self, field: str) -> str | None:
        """The CSV column letter a field's value came from ('notice.effective' -> 'I'), if any."""
        if not self.columns or not field:
            return None
        path = re.sub(r"\[\d+\]", "", field)
        while path:
            if path in self.columns:
                return self.columns[path]
            path = path.rpartition(".")[0]
        return None

    def describe(self, problems: Iterable[tuple[str, str]]) -> str:
        """Each problem on its own line, with the column it came from where the data is a CSV row:
        'notice.effective (column I): is not a real date ...'."""
        lines = []
        for field, problem in problems:
            column = self.column_of(field)
            where = f"{field} (column {column})" if column else field
            lines.append(f"{where}: {problem}" if where else problem)
        return "\n".join(lines)

    def reference(self) -> str:
        """The letter's reference in the row's data (funding.reference or case_ref), or ''."""
        data = self.data if isinstance(self.data, Mapping) else {}
        funding = data.get("funding")
        value = funding.get("reference") if isinstance(funding, Mapping) else data.get("case_ref")
        return str(value).strip() if value is not None else ""

    def organisation(self) -> str:
        """The organisation's name in the row's data (organisation.name or body.name), or ''."""
        data = self.data if isinstance(self.data, Mapping) else {}
        party = data.get("organisation") or data.get("body")
        value = party.get("name") if isinstance(party, Mapping) else None
        return str(value).strip() if value is not None else ""


def merge_defaults(defaults: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge a row over shared defaults: the row wins, nested mappings merge key by key."""
    merged: dict[str, Any] = dict(defaults)
    for key, value in row.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_defaults(base, value)
        else:
            merged[key] = value
    return merged


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so the field's real type shows."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _field_type(model: type[BaseModel], path: list[str]) -> Any:
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current


def _is_list_path(model: type[BaseModel], path: list[str]) -> bool:
    return typing.get_origin(_field_type(model, path)) is list


def unflatten(flat: Mapping[str, str], kind: str, where: str) -> dict[str, Any]:
    """Turn {'organisation.name': 'X', 'support': 'a | b'} into nested data for `kind`.

    Empty cells are left out, so a default (or the model's own default) applies.
    """
    model = model_for(kind)
    nested: dict[str, Any] = {}
    for header, cell in flat.items():
        if header is None:
            raise InvalidData(f"{where}: more cells than column headers")
        key = header.strip()
        value: Any = (cell or "").strip() if isinstance(cell, str) else cell
        if not key or value in ("", None):
            continue
        parts = key.split(".")
        if any(not p for p in parts):
            raise InvalidData(f"{where}: column header {header!r} is not a dotted field path")
        if _is_list_path(model, parts) and isinstance(value, str):
            value = [item.strip() for item in value.split(LIST_SEPARATOR.strip()) if item.strip()]
        target = nested
        for part in parts[:-1]:
            existing = target.setdefault(part, {})
            if not isinstance(existing, dict):
                raise InvalidData(f"{where}: column {header!r} clashes with column {part!r}")
            target = existing
        if isinstance(target.get(parts[-1]), dict):
            raise InvalidData(f"{where}: column {header!r} clashes with a column under it")
        target[parts[-1]] = value
    return nested


def _read_text(path: Path) -> str:
    # One encoding for the whole file: UTF-8, UTF-16 with a BOM, or (Excel's plain "CSV" export
    # on a UK Windows machine) Windows-1252; a file that mixes them is refused naming the line.
    return decode_text(read_capped(path, MAX_ROWS_FILE_BYTES, "rows file"), str(path))


MAX_CELL_CHARS = 200_000
"""The longest CSV cell a row may have (about 60 pages of a letter); a longer one refuses its row."""


def _csv_columns(headers: Iterable[str]) -> dict[str, str]:
    return {header.strip(): column_letter(index) for index, header in enumerate(headers)}


def _csv_rows(path: Path, kind: str) -> Iterator[tuple[int, dict[str, Any] | InvalidData]]:
    text = _read_text(path)
    # The csv module's own limit (131,072 characters a cell) would stop the whole file; cells are
    # measured here instead, so only a row with a cell over MAX_CELL_CHARS is refused.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        headers = reader.fieldnames
        if not headers:
            raise InvalidData(f"{path}: the CSV file has no header row")
        seen = set()
        for header in headers:
            if header in seen:
                raise InvalidData(f"{path}: column {header!r} appears twice in the header row")
            seen.add(header)
        # Excel's row numbers: the header is row 1, so the first record is row 2.
        for number, record in enumerate(reader, start=2):
            cells = [v for v in record.values() if isinstance(v, str)]
            extra = record.get(None)
            if not any(v.strip() for v in cells) and not extra:
                continue
            extra_cells = [v for v in extra if isinstance(v, str)] if isinstance(extra, list) else []
            longest = max([*cells, *extra_cells], key=len, default="")
            if len(longest) > MAX_CELL_CHARS:
                column = next((h for h, v in record.items() if v is longest), None) or "an extra"
                yield number, InvalidData(f"the {column} cell has {len(longest):,} characters, more than a "
                                          f"letter may hold ({MAX_CELL_CHARS:,})")
                continue
            if extra:
                yield number, InvalidData(
                    f"{len(headers) + len(extra)} cells but {len(headers)} column headers; quote any "
                    "cell that contains a comma")
                continue
            try:
                yield number, unflatten(record, kind, f"row {number}")
            except InvalidData as exc:
                yield number, exc
    except csv.Error as exc:
        raise InvalidData(f"{path}: not a readable CSV file: {exc}") from exc


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    number = 0
    for line_number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        yield number, parse_json(line, f"{path}: line {line_number}", one_line=True)


def load_defaults(defaults: Mapping[str, Any] | str | Path | None) -> Mapping[str, Any]:
    """Values shared by every row: a mapping, or a YAML/JSON file of one (InvalidData otherwise)."""
    if defaults is None:
        return {}
    if isinstance(defaults, (str, Path)):
        loaded = read_data_file(defaults)
        if not isinstance(loaded, Mapping):
            raise InvalidData(f"{defaults}: defaults must be a mapping of fields")
        return loaded
    return defaults


def rows_from(items: Iterable[Mapping[str, Any] | Row], defaults: Mapping[str, Any] | str | Path | None = None
              ) -> Iterator[Row]:
    """Rows given in memory (a script's list of mappings), numbered from 1, defaults merged under each."""
    base = load_defaults(defaults)
    for number, item in enumerate(items, start=1):
        if isinstance(item, Row):
            yield item
        else:
            yield Row(number, "rows", merge_defaults(base, item) if isinstance(item, Mapping) else item)


def read_rows(
    path: str | Path, kind: str, defaults: Mapping[str, Any] | str | Path | None = None
) -> Iterator[Row]:
    """Read a rows file lazily, yielding each row's data with the defaults merged under it.

    Raises InvalidData when the file itself cannot be read; a row whose data is bad is still
    yielded (validation happens per row, so one bad row never stops the batch).
    """
    path = Path(path)
    base = load_defaults(defaults)
    suffix = path.suffix.lower()
    items: Iterator[tuple[int, Any]]
    columns: dict[str, str] | None = None
    if suffix == ".csv":
        columns = _csv_columns(_csv_headers(path))
        items = _csv_rows(path, kind)
    elif suffix in (".jsonl", ".ndjson"):
        items = _jsonl_rows(path)
    elif suffix in (".yaml", ".yml", ".json"):
        loaded_rows = parse_text(_read_text(path), str(path))
        if isinstance(loaded_rows, Mapping) and isinstance(loaded_rows.get("rows"), list):
            loaded_rows = loaded_rows["rows"]
        if not isinstance(loaded_rows, list):
            raise InvalidData(f"{path}: expected a list of rows (or a mapping with a 'rows' list)")
        items = enumerate(loaded_rows, start=1)
    else:
        raise InvalidData(f"{path}: unknown rows format {suffix or '(no extension)'}: use .csv, .yaml, "
                          ".json or .jsonl")
    for number, item in items:
        if isinstance(item, InvalidData):
            yield Row(number=number, source=str(path), data=None, problem=str(item), columns=columns)
            continue
        data = merge_defaults(base, item) if isinstance(item, Mapping) else item
        yield Row(number=number, source=str(path), data=data, columns=columns)


def _csv_headers(path: Path) -> list[str]:
    try:
        first = next(csv.reader(io.StringIO(_read_text(path), newline="")), [])
    except csv.Error:
        return []
    return first
