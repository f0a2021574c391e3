"""Content-Type and Content-Transfer-Encoding in their plainest form, made without the header registry's parser."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

PLAIN_MIME_HEADERS = frozenset({"content-type", "content-transfer-encoding"})
"""The headers `plain_mime_header` can make (names lower-cased)."""

_TOKEN = r"[A-Za-z0-9][A-Za-z0-9.+-]*"
_PARAMETER = r';[ \t]*([A-Za-z0-9][A-Za-z0-9-]*)=(?:([A-Za-z0-9._+-]+)|"([!#-\[\]-~]*)")[ \t]*'
_PLAIN_TYPE = re.compile(rf"[ \t]*({_TOKEN})/({_TOKEN})[ \t]*((?:{_PARAMETER})*)")
_PLAIN_PARAMETER = re.compile(_PARAMETER)
_PLAIN_ENCODING = re.compile(r"[ \t]*([A-Za-z0-9-]+)[ \t]*")


class _TreeWhenAsked:
    """A header whose parse tree is made only when something asks for it (folding the header to
    write it out): its value, parameters and defects are known without it."""

    @property
    def _parse_tree(self) -> Any:
        tree = self.__dict__.get("_tree")
        if tree is None:
            parse: Any = getattr(type(self), "value_parser")  # noqa: B009 - the header class's own parser
            tree = self.__dict__["_tree"] = parse(str(self))
        return tree


@cache
def _plain_class(kind: type) -> type:
    return type(f"_Plain{kind.__name__}", (_TreeWhenAsked, kind), {})


def plain_mime_header(kind: type, name: str, value: str) -> Any | None:
    """The header object ``kind(name, value)`` would make (``kind`` is the header registry's class
    for ``name``), for a plain Content-Type or Content-Transfer-Encoding; None for anything else.

    Plain is ASCII: `type/subtype` then `; name=token` or `; name="text"` parameters, each name
    once, or one token for the encoding, and nothing like an encoded word ('=?'). The registry
    reads such a value as written (names and type lower-cased) with no defect, and writes the
    parameters back quoted; the header is made with those, for parsing them costs as much as
    the rest of a message.
    """
    lowered = name.lower()
    if "=?" in value:  # maybe an encoded word, which the registry decodes even inside quotes
        return None
    if lowered == "content-type":
        found = _PLAIN_TYPE.fullmatch(value)
        if found is None:
            return None
        params: dict[str, str] = {}
        written: list[str] = []
        for parameter in _PLAIN_PARAMETER.finditer(found[3]):
            key, text = parameter[1], parameter[2] if parameter[2] is not None else parameter[3]
            if key.lower() in params:  # a name twice: the registry's own rules decide
                return None
            params[key.lower()] = text
            written.append(f'{key}="{text}"' if text else key)
        # The registry writes the parameters back its own way: each value quoted, '; ' between.
        shown = f"{value[:found.start(3)]}; {'; '.join(written)}" if written else value
        header = _made(kind, name, shown)
        header._params = params
        header._maintype, header._subtype = found[1].lower(), found[2].lower()
        return header
    if lowered == "content-transfer-encoding":
        encoding = _PLAIN_ENCODING.fullmatch(value)
        if encoding is None:
            return None
        header = _made(kind, name, value)
        header._cte = encoding[1].lower()
        return header
    return None


def _made(kind: type, name: str, value: str) -> Any:
    header: Any = str.__new__(_plain_class(kind), value)
    header._name = name
    header._defects = []
    return header
