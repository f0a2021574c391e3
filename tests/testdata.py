"""Where the tests' files are: the checkout, its test data and the bundled examples."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout."""
DATA = ROOT / "tests" / "data"
MAIL = DATA / "mail"
"""The mail configuration, the labelled messages, threads and scenarios."""
BATCH = DATA / "batch"
LETTERS = DATA / "letters"
EXAMPLES = ROOT / "compact_docs" / "examples"
PROFILES = ROOT / "compact_docs" / "profiles"
