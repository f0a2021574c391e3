"""The layout's limits: a few stages' modules at the top of compact_docs, short modules, short functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for package in ("compact_docs", "mailflows", "cli") for p in (ROOT / package).rglob("*.py"))
MODULE_LINES = 500
CLI_LINES = 700
FUNCTION_LINES = 60


def test_compact_docs_has_its_stages_as_subpackages_and_few_top_level_modules() -> None:
    assert len(list((ROOT / "compact_docs").glob("*.py"))) <= 14
    assert {"rules", "rendering", "register", "letters"} <= {p.name for p in (ROOT / "compact_docs").iterdir()
                                                             if (p / "__init__.py").is_file()}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_or_function_is_too_long(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    limit = CLI_LINES if path.parent.name == "cli" else MODULE_LINES
    assert len(text.splitlines()) <= limit, f"{path.name} is over {limit} lines: split it by what it does"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (node.end_lineno or node.lineno) - node.lineno + 1 > FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {FUNCTION_LINES} lines: {', '.join(long)}"
