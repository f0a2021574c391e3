"""Pydantic validation errors as plain lines that name the field and the problem."""

from __future__ import annotations

from pydantic import ValidationError

_MESSAGES = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a field of this letter kind (check the spelling)",
    "literal_error": "must be one of {expected}",
    "date_from_datetime_parsing": "is not a real date (use YYYY-MM-DD, e.g. 2027-03-01)",
    "date_parsing": "is not a real date (use YYYY-MM-DD, e.g. 2027-03-01)",
    "date_type": "must be a date (YYYY-MM-DD)",
    "datetime_from_date_parsing": "is not a real date and time (use YYYY-MM-DDTHH:MM)",
    "datetime_parsing": "is not a real date and time (use YYYY-MM-DDTHH:MM)",
    "datetime_type": "must be a date and time (YYYY-MM-DDTHH:MM)",
    "string_too_short": "must not be blank",
    "string_type": "must be text",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


_UNION_TAGS = {"str", "bool", "int", "decimal", "list[str]"}


def _location(loc: tuple[int | str, ...]) -> str:
    # Union members add their type name to the location; drop those so the path is the data's.
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in _UNION_TAGS or part.startswith(("function-", "constrained-str")):
            continue
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(top level)"


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One plain line per problem: 'notice.effective: is not a real date (got '2027-02-30')'."""
    seen: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        where = _location(err["loc"])
        template = _MESSAGES.get(err["type"])
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error" and "error" in ctx:
            message = str(ctx["error"])
        else:
            message = template.format(**ctx) if template else err["msg"]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err:
            shown = err["input"]
            if isinstance(shown, (str, int, float, bool)) or shown is None:
                message += f" (got {shown!r})"
        # A union reports each member's failure: keep the first message per field.
        seen.setdefault(where, message)
    return [f"{where}: {message}" for where, message in seen.items()]
