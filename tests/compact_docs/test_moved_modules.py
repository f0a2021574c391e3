"""Modules that moved into the stage folders still import by their old names, as the same modules."""

from __future__ import annotations

import importlib

import pytest

MOVED = {
    "compact_docs.profile": "compact_docs.rules.profile",
    "compact_docs.checks": "compact_docs.rules.checks",
    "compact_docs.renderer": "compact_docs.rendering.renderer",
    "compact_docs.render_pdf": "compact_docs.rendering.pdf",
    "compact_docs.batch": "compact_docs.rendering.batch",
    "compact_docs.register_schema": "compact_docs.register.schema",
    "compact_docs.case_letter": "compact_docs.register.case_letter",
    "compact_docs.casework": "compact_docs.register.casework",
    "compact_docs.pdf_structure": "compact_docs.rendering.pdf_structure",
    "compact_docs.template_policy": "compact_docs.rendering.template_policy",
    "mailflows.imap": "mailflows.servers.imap",
    "mailflows.smtp": "mailflows.servers.smtp",
}


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_an_old_module_path_is_the_new_module(old: str, new: str) -> None:
    if old.startswith("mailflows."):
        importlib.import_module("mailflows")  # mailflows answers for its own old names
    assert importlib.import_module(old) is importlib.import_module(new)


def test_the_readme_names_still_work() -> None:
    from compact_docs.batch import generate_batch, run_batch

    import compact_docs
    import mailflows
    from compact_docs.rendering.renderer import Renderer, render

    assert (compact_docs.render, compact_docs.Renderer) == (render, Renderer)
    assert callable(generate_batch) and callable(run_batch)
    assert callable(mailflows.parse_message) and callable(mailflows.route_message)
