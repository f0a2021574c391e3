"""What the watcher reports: each message it filed, and a run's tallies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailflows.route import RoutingDecision


@dataclass(frozen=True)
class WatchedMessage:
    """One inbox message the watcher dealt with: its routing, the folder it went to, how.

    ``resumed`` is set for a message recorded by an earlier run that stopped before moving it:
    it is moved now, and its case is not touched again.
    """

    uid: int
    decision: RoutingDecision
    folder: str
    resumed: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The design's `mail watch --json` object (the `mail classify --json` shape)."""
        return self.decision.to_dict()


@dataclass
class WatchSummary:
    """What a run did: messages routed by disposition, recognised, resumed; reconnects; replies."""

    routed: dict[str, int] = field(default_factory=dict)
    already_recorded: int = 0
    resumed: int = 0
    moved: int = 0
    reconnects: int = 0
    acknowledgements_queued: int = 0
    acknowledgements_sent: int = 0
    acknowledgements_waiting: int = 0
    corrections: int = 0
    """Messages a person moved into a stage folder, recorded as corrections."""

    def count(self, message: WatchedMessage) -> None:
        """Add one message to the tallies."""
        if message.resumed:
            self.resumed += 1
        elif message.decision.already_recorded:
            self.already_recorded += 1
        else:
            key = message.decision.disposition
            self.routed[key] = self.routed.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data."""
        return {"routed": dict(self.routed), "already_recorded": self.already_recorded,
                "resumed": self.resumed, "moved": self.moved, "reconnects": self.reconnects,
                "acknowledgements_queued": self.acknowledgements_queued,
                "acknowledgements_sent": self.acknowledgements_sent,
                "acknowledgements_waiting": self.acknowledgements_waiting,
                "corrections": self.corrections}

    def line(self) -> str:
        """One readable line: 'Routed 12 (stage-1 4, ...); 3 already recorded; ...'."""
        total = sum(self.routed.values())
        parts = [f"Routed {total}" + (" (" + ", ".join(
            f"{k} {n}" for k, n in sorted(self.routed.items())) + ")" if total else "")]
        parts.append(f"{self.already_recorded} already recorded")
        parts.append(f"{self.resumed} resumed from an earlier run")
        parts.append(f"{self.moved} moved")
        parts.append(f"{self.reconnects} reconnect(s)")
        parts.append(f"acknowledgements: {self.acknowledgements_queued} queued, "
                     f"{self.acknowledgements_sent} sent, {self.acknowledgements_waiting} waiting")
        parts.append(f"{self.corrections} correction(s) moved in the mailbox")
        return "; ".join(parts)
