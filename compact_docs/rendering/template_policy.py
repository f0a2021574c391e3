"""What a letter template may do: Jinja's sandbox, the files WeasyPrint may read, a DOCX's size.

A template folder is code someone else may have written, so it is held to one policy:

- Jinja runs sandboxed (`ImmutableSandboxedEnvironment`): no attribute that starts with `_`, no
  Python internals (a function's globals, a frame, a class's `mro`), no changing the letter's
  lists or mappings, `range` and repetition bounded. What the sandbox refuses stops the letter
  with a TemplateError, and `templates lint` reports it before a letter is made.
- WeasyPrint may read only files inside the template folder and the compact_docs package (its
  templates and fonts), and `data:` URLs. Any other `file://`, and every network scheme, is refused.
- A DOCX template is read only up to MAX_TEMPLATE_BYTES, and its zip package is refused before
  it is opened when it unpacks to too much, or with too high a compression ratio (a zip bomb).
"""

from __future__ import annotations

import io
import mimetypes
import operator
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urljoin, urlsplit

from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import (
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
)

from compact_docs.errors import FetchRefused as FetchRefused  # defined in errors.py; still importable here
from compact_docs.errors import TemplateError

MAX_TEMPLATE_BYTES = 16 * 1024 * 1024
"""A template file larger than this is refused unread (the bundled DOCX is about 40 kB)."""

MAX_DOCX_UNPACKED_BYTES = 64 * 1024 * 1024
"""The most a DOCX template's parts may unpack to, all together."""

MAX_DOCX_XML_BYTES = 16 * 1024 * 1024
"""The most one XML part of a DOCX template may unpack to (a long letter's is under 1 MB)."""

MAX_DOCX_RATIO = 100
"""A part over 1 MB that unpacks to more than this many times its packed size is a zip bomb
(XML usually packs 5 to 20 times)."""

MAX_DOCX_PARTS = 1000
"""The most parts a DOCX template's package may hold."""

MAX_REPEAT = 100_000
"""The longest text or list `*` may make in a template, and the largest result `**` may give."""

_SMALL_PART = 1024 * 1024
_CHUNK = 64 * 1024


class LetterSandbox(ImmutableSandboxedEnvironment):
    """The Jinja environment every letter template runs in (see the module's policy).

    Unlike Jinja's own sandbox, an unsafe attribute fails at once rather than printing as
    nothing, so a template that tries one is stopped and named.
    """

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Jinja's answer depends only on the object's type and the name: remembered, so a letter's
        # hundreds of `b.text` cost a lookup each rather than a dozen isinstance checks.
        key = (type(obj), attr)
        safe = self._safe_attributes.get(key)
        if safe is None:
            if len(self._safe_attributes) > 10_000:
                self._safe_attributes.clear()
            safe = self._safe_attributes[key] = super().is_safe_attribute(obj, attr, value)
        return safe

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        owner = obj.__name__ if isinstance(obj, type) else type(obj).__name__
        raise SecurityError(f"letter templates may not use {attribute!r} (of {owner})")

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if _number(left) and _number(right) and abs(right) > 64 and abs(left) > 1:
                raise SecurityError(f"letter templates may not raise to a power over 64 ({right!r})")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            if (isinstance(sequence, (str, list, tuple)) and isinstance(count, int)
                    and len(sequence) * count > MAX_REPEAT):
                raise SecurityError(f"letter templates may not repeat a value into more than "
                                    f"{MAX_REPEAT:,} items")
        return operator.mul(left, right)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def refused_attribute(name: str) -> bool:
    """Whether the sandbox refuses an attribute name on some object (a static check for lint)."""
    return (name.startswith("_") or name == "mro" or name in UNSAFE_FUNCTION_ATTRIBUTES
            or name in UNSAFE_METHOD_ATTRIBUTES or name in UNSAFE_GENERATOR_ATTRIBUTES)


MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "popitem", "remove", "clear", "sort", "reverse",
    "setdefault", "update", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "__setitem__", "__delitem__",
})
"""Methods the immutable sandbox refuses on lists, mappings and sets (lint names them)."""


# -- what WeasyPrint may read -----------------------------------------------------------------


@dataclass(frozen=True)
class FetchPolicy:
    """Where an HTML letter's relative URLs point, and the folders WeasyPrint may read from."""

    base_url: str
    roots: tuple[str, ...]

    def allows(self, path: str) -> bool:
        """Whether a real (symlink-free) path is inside one of the allowed folders."""
        return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots)


def _real(path: Any) -> str:
    return os.path.realpath(str(path))


def package_roots() -> tuple[str, ...]:
    """The compact_docs package and its bundled templates (a checkout links them from elsewhere)."""
    package = resources.files("compact_docs")
    return tuple(dict.fromkeys((_real(package), _real(package.joinpath("templates")))))


def fetch_policy(template_folder: Any, user_folder: Path | None) -> FetchPolicy:
    """The policy for an HTML template found in `template_folder` (the user's or the bundled)."""
    roots = package_roots()
    if user_folder is not None:
        roots = (_real(user_folder), *roots)
    return FetchPolicy(Path(_real(template_folder)).as_uri() + "/", roots)


@cache
def default_fetch_policy() -> FetchPolicy:
    """The policy when no template says otherwise: the bundled templates and the package."""
    return fetch_policy(resources.files("compact_docs").joinpath("templates"), None)


def _local_path(url: str) -> str | None:
    """The real path a file: URL names, or None when it names another machine."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    from urllib.request import url2pathname

    return _real(url2pathname(unquote(parts.path)))


def url_allowed(url: str, policy: FetchPolicy) -> bool:
    """Whether WeasyPrint may fetch a URL (relative ones taken from the policy's base URL)."""
    absolute = urljoin(policy.base_url, url.strip())
    scheme = absolute.split(":", 1)[0].lower() if ":" in absolute else ""
    if scheme == "data":
        return True
    path = _local_path(absolute) if scheme == "file" else None
    return path is not None and policy.allows(path)


@cache
def _fetcher_class() -> type[Any]:
    """WeasyPrint's URLFetcher narrowed to the policy (built on first use: WeasyPrint is imported
    only when a PDF is wanted)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PolicyFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self, policy: FetchPolicy) -> None:
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.policy = policy
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url_allowed(url, self.policy):
                return self._refuse(url, "outside the template folder and the package")
            if url.split(":", 1)[0].lower() == "data":
                return super().fetch(url, headers)
            path = _local_path(url)
            if path is not None and os.path.isfile(path):
                size = os.path.getsize(path)
                if size > MAX_TEMPLATE_BYTES:
                    return self._refuse(url, f"{size:,} bytes is more than a letter may use")
                with open(path, "rb") as handle:
                    body = handle.read(MAX_TEMPLATE_BYTES + 1)
                kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body, {"Content-Type": kind})
            raise FileNotFoundError(f"{url}: no such file")

        def _refuse(self, url: str, why: str) -> NoReturn:
            self.refused.append(url)
            raise FetchRefused(f"{url}: {why}")

    return PolicyFetcher


def policy_fetcher(policy: FetchPolicy) -> Any:
    """A WeasyPrint url_fetcher that reads only what `policy` allows and lists what it refused."""
    return _fetcher_class()(policy)


def refused_fetches_error(refused: Iterable[str]) -> TemplateError:
    """The error for an HTML letter that asked WeasyPrint for what templates may not read."""
    shown = ", ".join(sorted(set(refused))[:3])
    return TemplateError(
        f"the letter's template asked for {shown}: templates may read only files in the template "
        "folder and the compact_docs package, and data: URLs (no other file://, no network)")


# -- DOCX packages ----------------------------------------------------------------------------


def read_template_bytes(path: Any, label: str) -> bytes:
    """A template file's bytes, refused unread when it is larger than MAX_TEMPLATE_BYTES."""
    with path.open("rb") as handle:
        data: bytes = handle.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"template {label} is refused: it is larger than "
                            f"{MAX_TEMPLATE_BYTES // (1024 * 1024)} MB")
    return data


def safe_docx_package(data: bytes, label: str) -> bytes:
    """The DOCX package rebuilt from its parts, once they are known to unpack to a sane size.

    Refuses (TemplateError) a package with too many parts, parts that unpack past the limits or
    with too high a ratio, and compression methods a DOCX never uses. The parts are read in small
    pieces, never more than each declares, and packed afresh, so docxtpl never opens the original
    (whose sizes may lie). Raises zipfile.BadZipFile when the data is not a zip package at all.
    """
    def refuse(why: str) -> NoReturn:
        raise TemplateError(f"template {label} is refused before it is opened: {why}")

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        infos = package.infolist()
        if len(infos) > MAX_DOCX_PARTS:
            refuse(f"its package has {len(infos):,} parts (at most {MAX_DOCX_PARTS:,})")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            refuse("its package names a part twice")
        total = 0
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                refuse(f"{info.filename} is packed in a way DOCX files never are")
            if info.file_size > _SMALL_PART and info.file_size > MAX_DOCX_RATIO * max(info.compress_size, 1):
                refuse(f"{info.filename} unpacks to {info.file_size:,} bytes from {info.compress_size:,}: "
                       "a zip bomb, not a letter template")
            if info.filename.endswith((".xml", ".rels")) and info.file_size > MAX_DOCX_XML_BYTES:
                refuse(f"{info.filename} unpacks to {info.file_size:,} bytes (at most "
                       f"{MAX_DOCX_XML_BYTES:,})")
            total += info.file_size
            if total > MAX_DOCX_UNPACKED_BYTES:
                refuse(f"it unpacks to more than {MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as rebuilt:
            for info in infos:
                if info.is_dir():
                    continue
                pieces = []
                with package.open(info) as part:
                    while piece := part.read(_CHUNK):
                        pieces.append(piece)
                entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = info.external_attr
                rebuilt.writestr(entry, b"".join(pieces))
    return out.getvalue()
