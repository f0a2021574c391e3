"""Reading letter data from YAML or JSON into validated models, with errors that name the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from compact_docs.errors import InvalidData
from compact_docs.models import KINDS, MODELS, Letter, infer_kind, model_for
from compact_docs.uk_input import DEFAULT_DATE_LOCALE, DateLocale
from compact_docs.validation import describe_problems, describe_syntax_error
from compact_docs.validation import describe_validation_error as describe_validation_error


class _TextDatesLoader(yaml.SafeLoader):
    """YAML loader that keeps timestamps as text, so pydantic (not PyYAML) judges every date.

    PyYAML raises a bare ValueError for an impossible date such as 2027-02-30 without saying
    which field it was in.
    """


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

def parse_text(text: str, source: str) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON files are parsed strictly)."""
    try:
        if source.lower().endswith(".json"):
            return json.loads(text)
        return yaml.load(text, Loader=_TextDatesLoader)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidData(f"{source}: not valid YAML or JSON: {describe_syntax_error(exc)}") from exc


def read_data_file(path: str | Path) -> Any:
    """Read a YAML or JSON data file into plain Python data."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidData(f"{path}: no such data file") from exc
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidData(f"{path}: cannot read: {exc.strerror or exc}") from exc
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
