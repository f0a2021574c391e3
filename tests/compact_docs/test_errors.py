"""Every exception class lives in compact_docs/errors.py, and its docstring's tree draws each one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import compact_docs
import mailflows
from compact_docs import errors


def _module_names() -> list[str]:
    return [info.name for package in (compact_docs, mailflows)
            for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]


def _exceptions_defined_in(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [name for name, value in vars(module).items()
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module_name]


@pytest.mark.parametrize("module_name", [n for n in _module_names() if n != "compact_docs.errors"])
def test_no_exception_class_outside_errors_py(module_name: str) -> None:
    assert _exceptions_defined_in(module_name) == []


def test_the_docstring_draws_every_exception() -> None:
    drawn = set(re.findall(r"^    (?:[│ ]   )*(?:[├└]── )?(\w+)", errors.__doc__ or "", re.MULTILINE))
    assert set(_exceptions_defined_in("compact_docs.errors")) <= drawn


@pytest.mark.parametrize(("module_name", "old_name", "new_name"), [
    ("compact_docs.validation", "FieldProblem", "FieldProblem"),
    ("compact_docs.loading", "_Refused", "DataRefused"),
    ("compact_docs.rendering.template_policy", "FetchRefused", "FetchRefused"),
    ("mailflows.mime_tree", "_TooManyParts", "TooManyMimeParts"),
])
def test_moved_exceptions_keep_their_old_names(module_name: str, old_name: str, new_name: str) -> None:
    assert getattr(importlib.import_module(module_name), old_name) is getattr(errors, new_name)


@pytest.mark.parametrize("name", ["FieldProblem", "DataRefused", "FetchRefused"])
def test_signals_raised_where_a_valueerror_is_expected_stay_valueerrors(name: str) -> None:
    assert issubclass(getattr(errors, name), ValueError)
