"""Reading letter data from YAML or JSON into validated models, with errors that name the field."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from compact_docs.data_files import MAX_DATA_FILE_BYTES, read_capped
from compact_docs.errors import DataRefused as _Refused  # defined in errors.py; its old name here
from compact_docs.errors import InvalidData
from compact_docs.kinds import KINDS
from compact_docs.models import MODELS, Letter, infer_kind, model_for
from compact_docs.uk_input import DEFAULT_DATE_LOCALE, DateLocale
from compact_docs.validation import describe_problems, describe_syntax_error

MAX_NESTING = 32
"""The deepest nesting a data file may have (a letter's data is four or five levels deep)."""

MAX_EXPANDED_VALUES = 100_000
"""The most values a YAML file's aliases may expand to (a letter has a few hundred); a file of
nested aliases (a "billion laughs") would otherwise expand to billions."""


class _TextDatesLoader(yaml.SafeLoader):
    """YAML loader that keeps timestamps as text, so pydantic (not PyYAML) judges every date.

    PyYAML raises a bare ValueError for an impossible date such as 2027-02-30 without saying
    which field it was in. It also refuses nesting deeper than MAX_NESTING, aliases that expand
    past MAX_EXPANDED_VALUES (or refer to themselves) and a key given twice in one mapping.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise _Refused(f"nested more than {MAX_NESTING} levels deep (line {line})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue  # merged keys may be overridden; that is what a merge is for
            key = self.construct_object(key_node)
            if key in seen:
                raise _Refused(f"key {key!r} appears twice in one mapping (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep)


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_expansion(root: yaml.Node) -> None:
    """Count the values a YAML document stands for once its aliases are expanded, without expanding
    them (each node's count is worked out once); refuse past MAX_EXPANDED_VALUES or a cycle."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_EXPANDED_VALUES:
                raise _Refused(f"its aliases expand to more than {MAX_EXPANDED_VALUES:,} values (line "
                               f"{node.start_mark.line + 1}); write the values out instead")
            continue
        if key in open_nodes:
            raise _Refused(f"an alias refers to the value it is part of (line {node.start_mark.line + 1})")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
        for child in children:
            if id(child) in open_nodes:
                raise _Refused(f"an alias refers to the value it is part of (line "
                               f"{child.start_mark.line + 1})")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _Refused(f"key {key!r} appears twice in one object")
        mapping[key] = value
    return mapping


def _check_nesting(data: Any) -> None:
    """Refuse data nested deeper than MAX_NESTING (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_NESTING:
                raise _Refused(f"nested more than {MAX_NESTING} levels deep")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items if isinstance(item, (dict, list)))


def _parsed(load: Callable[[], Any], source: str, syntax_error: type[Exception],
            syntax_problem: Callable[[Any], str], not_valid: str) -> Any:
    """What `load()` parses, its nesting checked; anything refused as InvalidData naming `source`:
    a syntax error (`syntax_error`) in the words of `syntax_problem`, any other ValueError after
    `not_valid`."""
    try:
        data = load()
        _check_nesting(data)
    except _Refused as exc:
        raise InvalidData(f"{source}: {exc}") from exc
    except RecursionError as exc:
        raise InvalidData(f"{source}: nested more than {MAX_NESTING} levels deep") from exc
    except syntax_error as exc:
        raise InvalidData(syntax_problem(exc)) from exc
    except ValueError as exc:  # a number of more than 4,300 digits
        raise InvalidData(f"{not_valid}: {exc}".replace("\n", " ")) from exc
    return data


def _not_yaml_or_json(source: str, exc: Exception) -> str:
    return f"{source}: not valid YAML or JSON: {describe_syntax_error(exc)}"


def parse_json(text: str, source: str, *, one_line: bool = False) -> Any:
    """Parse JSON strictly: a key twice in one object, or nesting past MAX_NESTING, is refused.

    `source` names the text in messages ('rows.jsonl: line 2' for one line of JSON Lines).
    """

    def syntax_problem(exc: json.JSONDecodeError) -> str:
        return f"{source} is not valid JSON: {exc.msg}" if one_line else _not_yaml_or_json(source, exc)

    return _parsed(partial(json.loads, text, object_pairs_hook=_no_duplicate_keys), source,
                   json.JSONDecodeError, syntax_problem, f"{source} is not valid JSON")


def parse_text(text: str, source: str) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON files are parsed strictly)."""
    if source.lower().endswith(".json"):
        return parse_json(text, source)
    return _parsed(partial(yaml.load, text, Loader=_TextDatesLoader), source, yaml.YAMLError,
                   partial(_not_yaml_or_json, source), f"{source}: not valid YAML or JSON")


def read_data_file(path: str | Path) -> Any:
    """Read a YAML or JSON data file into plain Python data (refused unread past MAX_DATA_FILE_BYTES)."""
    path = Path(path)
    raw = read_capped(path, MAX_DATA_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return parse_text(text, str(path))


def build_letter(raw: Any, kind: str | None = None, source: str = "data",
                 date_locale: DateLocale = DEFAULT_DATE_LOCALE) -> Letter:
    """Validate plain data as a letter of `kind` (or of the data's own `kind` key, or the kind its
    fields or file name say). Numeric dates are read day first (en-GB) unless `date_locale` says."""
    if not isinstance(raw, Mapping):
        raise InvalidData(f"{source}: expected a mapping of fields at the top level")
    data = dict(raw)
    data_kind = data.get("kind")
    if kind is None:
        kind = data_kind if isinstance(data_kind, str) else infer_kind(data, source)
        if kind is None:
            raise InvalidData(f"{source}: kind: is required but missing (one of {', '.join(KINDS)}): add "
                              "'kind: notice' (for example) to the data, or pass the kind")
    if kind not in KINDS:
        raise InvalidData(f"{source}: kind: {kind!r} is not a letter kind (one of {', '.join(KINDS)})")
    if data_kind is not None and data_kind != kind:
        raise InvalidData(f"{source}: kind: the data is a {data_kind!r} letter, not {kind!r}")
    data["kind"] = kind
    model = model_for(kind)
    try:
        letter = model.model_validate(data, context={"date_locale": date_locale})
    except ValidationError as exc:
        raise InvalidData(problems=describe_problems(exc, model), source=source) from exc
    return letter  # type: ignore[return-value]


def load_letter(source: str | Path | Mapping[str, Any], kind: str | None = None,
                date_locale: DateLocale = DEFAULT_DATE_LOCALE) -> Letter:
    """Load a letter from a file path (YAML or JSON) or from a mapping already in memory.

    A relative profile path in a data file is read relative to that file's folder.
    """
    if isinstance(source, Mapping):
        return build_letter(source, kind, date_locale=date_locale)
    letter = build_letter(read_data_file(source), kind, str(source), date_locale)
    profile = Path(letter.profile)
    if not profile.is_absolute() and (profile.suffix == ".toml" or len(profile.parts) > 1):
        beside = Path(source).parent / profile
        if beside.exists():
            letter = letter.model_copy(update={"profile": str(beside)})
    return letter


def as_letter(data: Any, kind: str | None = None, date_locale: DateLocale = DEFAULT_DATE_LOCALE) -> Letter:
    """A validated letter from a path, a mapping or a letter model; InvalidData for anything else."""
    if isinstance(data, (str, Path, Mapping)):
        return load_letter(data, kind, date_locale)
    if isinstance(data, tuple(MODELS.values())):
        return data  # type: ignore[return-value]
    raise InvalidData(f"expected letter data (a mapping of fields), not {type(data).__name__}")
