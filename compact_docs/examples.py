"""The bundled example data files, one per letter kind (and per escalation stage)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def example_files() -> list[Traversable]:
    """Every bundled example data file, sorted by name."""
    folder = resources.files("compact_docs").joinpath("examples")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def example_file(name: str) -> Traversable:
    """One bundled example by file stem, such as 'notice' or 'escalation-stage-2'."""
    return resources.files("compact_docs").joinpath("examples", f"{name}.yaml")
