"""The five letter kinds, by the names data files and commands use for them."""

from __future__ import annotations

from typing import Literal

Kind = Literal["notice", "service-change", "funding-end-plan", "escalation", "agreement"]
KINDS: tuple[Kind, ...] = ("notice", "service-change", "funding-end-plan", "escalation", "agreement")
