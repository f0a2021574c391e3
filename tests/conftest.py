"""Shared pytest fixtures: example data, a CLI runner, a case register and (imported below) the real servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner
from testdata import EXAMPLES, Clock

if TYPE_CHECKING:
    from compact_docs.register.cases import CaseRegister


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner."""
    return CliRunner()


@pytest.fixture
def example() -> Callable[[str], dict[str, Any]]:
    """Load a bundled example as a fresh dict, by stem ('notice', 'escalation-stage-2')."""

    def load(name: str) -> dict[str, Any]:
        text = (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
        from compact_docs.loading import parse_text

        data: dict[str, Any] = parse_text(text, f"{name}.yaml")
        return data

    return load


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Write a dict as a YAML data file in tmp_path and return its path."""

    def write(data: dict[str, Any], name: str = "data.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture
def clock() -> Clock:
    """The clock of the `register` fixture: set ``clock.now`` to move time."""
    return Clock()


@pytest.fixture
def register(tmp_path: Path, clock: Clock) -> Iterator[CaseRegister]:
    """An empty case register in tmp_path under the Bexley profile (the test configuration's)."""
    from compact_docs.register.cases import CaseRegister
    from compact_docs.rules.profile import load_profile

    with CaseRegister(tmp_path / "cases.db", load_profile("bexley"), clock=clock) as opened:
        yield opened


from servers import *  # noqa: E402, F403 - a real IMAP server
from smtp_server import *  # noqa: E402, F403 - a real SMTP server
