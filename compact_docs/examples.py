"""The bundled example data files, one per letter kind (and per escalation stage)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path


def example_files() -> list[Traversable]:
    """Every bundled example data file, sorted by name."""
    folder = resources.files("compact_docs").joinpath("examples")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def example_file(name: str) -> Traversable:
    """One bundled example by file stem, such as 'notice' or 'escalation-stage-2'."""
    return resources.files("compact_docs").joinpath("examples", f"{name}.yaml")


def write_examples(out_dir: str | Path, force: bool = False) -> list[Path]:
    """Copy the bundled example data files into a folder, to start a letter from.

    Raises OutputError, and writes nothing, when a file exists (unless `force`).
    """
    from compact_docs.rendering.output import prepare_folder, refuse_overwrite, target_path, write_atomic

    folder = prepare_folder(out_dir)
    sources = example_files()
    targets = [target_path(folder, source.name) for source in sources]
    refuse_overwrite(targets, force)
    for source, target in zip(sources, targets, strict=True):
        write_atomic(target, source.read_bytes())
    return [Path(out_dir) / target.name for target in targets]
