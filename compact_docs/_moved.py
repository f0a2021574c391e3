"""Old import paths of modules that moved, answered with the module at its new path."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """An import finder that gives `compact_docs.rendering.batch` (say) the module `compact_docs.rendering.batch`.

    The old name and the new are the same module object, imported only when first asked for, so
    a script written against the old layout keeps working (patching included) and start-up pays
    for nothing it does not use.
    """

    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = dict(moved)

    @classmethod
    def install(cls, moved: Mapping[str, str]) -> MovedModules:
        """Answer these old names (old -> new) from now on; once per table."""
        finder = cls(moved)
        sys.meta_path.append(finder)
        return finder

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        """A spec for an old name; None for every other name."""
        if fullname not in self.moved:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        """The module at the new path (imported now if need be)."""
        return importlib.import_module(self.moved[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was executed under its new name."""
