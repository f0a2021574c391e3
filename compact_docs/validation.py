"""Pydantic validation errors as plain lines that name the field and the problem, and say what to do."""

from __future__ import annotations

import difflib
import json
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from compact_docs.errors import FieldProblem as FieldProblem  # defined in errors.py; still importable here
from compact_docs.uk_input import DATE_HINT

_MESSAGES = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a field here (check the spelling)",
    "literal_error": "must be one of {expected}",
    "date_from_datetime_parsing": f"is not a real date ({DATE_HINT})",
    "date_parsing": f"is not a real date ({DATE_HINT})",
    "date_type": f"must be a date ({DATE_HINT})",
    "date_from_datetime_inexact": "must be a date without a time of day",
    "datetime_from_date_parsing": "is not a real date and time (use YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM)",
    "datetime_parsing": "is not a real date and time (use YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM)",
    "datetime_type": "must be a date and time (YYYY-MM-DDTHH:MM)",
    "string_too_short": "must not be blank",
    "string_type": "must be text",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "decimal_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


_UNION_TAGS = {"str", "bool", "int", "decimal", "list[str]"}


def _path(loc: tuple[int | str, ...]) -> list[int | str]:
    # Union members add their type name to the location; drop those so the path is the data's.
    return [part for part in loc if isinstance(part, int)
            or not (part in _UNION_TAGS or part.startswith(("function-", "constrained-str")))]


def dotted(path: list[int | str]) -> str:
    """A field path as the data names it: 'funding.reference', 'tried[0].action'."""
    parts: list[str] = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + part)
    return "".join(parts) or "(top level)"


def _model_at(model: type[BaseModel] | None, path: list[int | str]) -> type[BaseModel] | None:
    """The model whose fields live at `path` (lists and optionals looked through)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = inner_model(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def inner_model(annotation: Any) -> Any:
    """The model inside an annotation such as `Eia | None` or `list[Risk]`, or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = inner_model(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(model: type[BaseModel] | None, path: list[int | str]) -> str:
    """'; did you mean `rationale`?' for a misspelt field, naming the fields where there are few."""
    where = _model_at(model, path[:-1])
    if where is None or not isinstance(path[-1], str):
        return ""
    names = list(where.model_fields)
    close = difflib.get_close_matches(path[-1], names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{close[0]}`?"
    return f" (the fields here: {', '.join(names)})" if len(names) <= 12 else ""


def _hint(err: Any) -> str:
    """What to do about a value of the wrong type, where a plain fix exists."""
    value = err.get("input")
    if err["type"] == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f" (put it in quotes: \"{value}\")"
    if err["type"] == "string_type" and isinstance(value, bool):
        return f" (put it in quotes: \"{'yes' if value else 'no'}\")"
    return ""


def describe_problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """(field, problem) for each problem, the field as a dotted path: ('notice.effective',
    "is not a real date (...) (got '2027-02-30')"). `model` lets a misspelt field suggest the name."""
    seen: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        path = _path(err["loc"])
        template = _MESSAGES.get(err["type"])
        ctx = err.get("ctx") or {}
        error = ctx.get("error")
        if err["type"] == "value_error" and error is not None:
            message = str(error)
            if isinstance(error, FieldProblem):
                path = [*path, *error.path.split(".")]
        else:
            message = template.format(**ctx) if template else err["msg"]
        if err["type"] == "extra_forbidden":
            message += _did_you_mean(model, path)
        elif err["type"] != "missing" and "input" in err:
            shown = err["input"]
            if isinstance(shown, (str, int, float, bool)) or shown is None:
                message += f" (got {shown!r})"
            message += _hint(err)
        # A union reports each member's failure: keep the first message per field.
        seen.setdefault(dotted(path), message)
    return list(seen.items())


def describe_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """One plain line per problem: "notice.effective: is not a real date (...) (got '2027-02-30')"."""
    return [f"{field}: {problem}" for field, problem in describe_problems(exc, model)]


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a value that contains ': ' must be in quotes"),
    ("cannot start any token", "indent with spaces, not tabs (or put the value in quotes)"),
    ("could not find expected ':'", "a line is missing the ':' between a field and its value"),
    ("did not find expected key", "the indentation does not line up with the lines above"),
    ("expected the end of a block", "the indentation does not line up with the lines above"),
    ("expected ',' or ']'", "a [list] is not closed with ']'"),
    ("expected ',' or '}'", "a {mapping} is not closed with '}'"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
    ("found duplicate anchor", "an '&' anchor is used twice"),
)


_PARSER_WORDS = {
    "'<stream end>'": "the end of the file",
    "'<block mapping start>'": "a new field",
    "'<block end>'": "the end of a block",
    "<block end>": "the end of a block",
    "'<scalar>'": "a value",
    "<unicode string>": "the file",
}


def describe_syntax_error(exc: Exception) -> str:
    """A YAML or JSON syntax error as 'line 3, column 12: <what>; <what to do>', without the
    parser's internal names (such as '<unicode string>')."""
    line = column = None
    problem = str(exc)
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
        problem = str(getattr(exc, "problem", None) or getattr(exc, "context", None) or "not valid")
        context = getattr(exc, "context", None)
        if context and context not in problem:
            problem = f"{problem} ({context})"
    elif isinstance(exc, json.JSONDecodeError):
        line, column, problem = exc.lineno, exc.colno, exc.msg
    for internal, plain in _PARSER_WORDS.items():
        problem = problem.replace(internal, plain)
    where = f"line {line}, column {column}: " if line is not None else ""
    hint = next((advice for marker, advice in _SYNTAX_HINTS if marker in problem), "")
    return where + problem + (f"; {hint}" if hint else "")
