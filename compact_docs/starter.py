"""A commented starter data file for a letter kind: every field with what it means, filled from the example."""

from __future__ import annotations

import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compact_docs.examples import example_file
from compact_docs.loading import parse_text
from compact_docs.models import KINDS, model_for
from compact_docs.validation import inner_model

_WIDTH = 100


def _comment(text: str, indent: str) -> list[str]:
    """A comment wrapped to the page width."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(indent) + 2 + len(line) + 1 + len(word) > _WIDTH:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return [f"{indent}# {part}" for part in lines]


def _describe(name: str, info: FieldInfo) -> str:
    need = "required" if info.is_required() else "optional"
    return f"{name} ({need}): {info.description or ''}".rstrip(": ")


def _value(name: str, value: Any, indent: str) -> list[str]:
    """`name: value` in YAML: a scalar or a list of scalars on one line, anything else as a block."""
    flat = not isinstance(value, (dict, list)) or (
        isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value))
    dumped = yaml.safe_dump({name: value}, allow_unicode=True, sort_keys=False, width=_WIDTH,
                            default_flow_style=None if flat else False).rstrip("\n")
    if flat and dumped.startswith("{") and dumped.endswith("}"):
        dumped = dumped[1:-1]
    return [indent + line for line in dumped.splitlines()]


def _lines(model: type[BaseModel], data: dict[str, Any], indent: str = "") -> list[str]:
    lines: list[str] = []
    for name, info in model.model_fields.items():
        lines += _comment(_describe(name, info), indent)
        inner = inner_model(info.annotation)
        is_list = typing.get_origin(_strip_optional(info.annotation)) is list
        if name not in data:
            lines.append(f"{indent}# {name}: ")
        elif inner is not None and isinstance(data[name], dict) and not is_list:
            lines.append(f"{indent}{name}:")
            lines += _lines(inner, data[name], indent + "  ")
        else:
            if inner is not None and is_list:
                fields = ", ".join(inner.model_fields)
                lines += _comment(f"each item: {fields}", indent)
            lines += _value(name, data[name], indent)
    return lines


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def starter_file(kind: str, stage: int = 2) -> str:
    """The text of a commented YAML data file for `kind`, filled in from the bundled example (an
    escalation for `stage`); every field has a comment saying what it is and whether it is needed.
    It checks clean as it is: change the values, then `compact-docs check KIND FILE`."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    name = f"escalation-stage-{stage}" if kind == "escalation" else kind
    data = parse_text(example_file(name).read_text(encoding="utf-8"), f"{name}.yaml")
    head = [f"# A {kind} letter's data for compact-docs, filled in with an example: change the values, "
            "then", f"#   compact-docs check {kind} {name}.yaml && compact-docs {kind} {name}.yaml -o letters",
            "# Lines starting with '# field:' are optional fields left out; dates are YYYY-MM-DD or "
            "DD/MM/YYYY.", ""]
    return "\n".join(head + _lines(model_for(kind), data)) + "\n"
