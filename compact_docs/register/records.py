"""What the case register holds: cases, their events and routed messages, and how references look."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compact_docs.rules.profile import CASE_PREFIX, Profile

ROUTING_ACTOR = "compact-docs routing rules"
"""Who the register names for what the routing rules did; their reasons are the rules' own words."""

@dataclass(frozen=True)
class Case:
    """A dispute case: where it stands in the conflict-resolution process."""

    ref: str
    organisation: str | None
    commissioned: bool | None
    sender: str | None
    stage: int
    status: str
    opened: str
    updated: str
    topic: str
    outcome: str | None
    message_ids: tuple[str, ...] = ()
    owner: str | None = None
    received: str | None = None
    stage_since: str | None = None
    merged_into: str | None = None

    def lines(self, events: Sequence[CaseEvent], profile: Profile, due: str | None = None) -> list[str]:
        """The case and its history for a person, as `cases show` shows them (``due``: since when it
        is at its stage and when it is due there, if it has a deadline)."""
        commissioned = {True: "commissioned", False: "not commissioned", None: "unknown"}[self.commissioned]
        merged = f", merged into {self.merged_into}" if self.merged_into else ""
        lines = [f"{self.ref}: {self.topic}",
                 f"  stage {self.stage}, {profile.stage(self.stage).name} ({self.status}){merged}",
                 f"  organisation: {self.organisation or 'unknown'} ({commissioned}); "
                 f"sender {self.sender or 'unknown'}",
                 f"  owner: {self.owner or 'nobody yet'}",
                 f"  first message {self.received or self.opened}; opened {self.opened}; updated {self.updated}"]
        lines += [f"  {due}"] if due else []
        lines += [f"  outcome: {self.outcome}"] if self.outcome else []
        lines += ["  messages: " + (", ".join(self.message_ids) or "none"), "History:"]
        return lines + [f"  {e.at}  {e.kind:<10} stage {e.stage}  {e.actor}: {e.reason}" for e in events]

    def to_dict(self) -> dict[str, Any]:
        """The `cases list --json` object of this case (`due` and `overdue` are added by casework)."""
        return {
            "ref": self.ref, "stage": self.stage, "status": self.status,
            "organisation": self.organisation, "commissioned": self.commissioned,
            "opened": self.opened, "updated": self.updated, "topic": self.topic,
            "sender": self.sender, "outcome": self.outcome, "message_ids": list(self.message_ids),
            "owner": self.owner, "received": self.received or self.opened,
            "stage_since": self.stage_since or self.received or self.opened,
            "merged_into": self.merged_into,
        }


@dataclass(frozen=True)
class CaseEvent:
    """One entry of a case's history: opened, message joined, escalated, closed, a note, a
    correction of the router (``disposition`` the corrected one, ``previous`` the one before,
    ``via`` 'command' or 'mailbox'), a merge, a reopening or an assignment."""

    at: str
    kind: str
    stage: int
    actor: str
    reason: str
    message_id: str | None
    disposition: str | None = None
    previous: str | None = None
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """This event as plain data (`by` is who made it; a note's words are its `text`)."""
        found: dict[str, Any] = {"at": self.at, "kind": self.kind, "stage": self.stage,
                                 "by": self.actor, "actor": self.actor, "reason": self.reason,
                                 "message_id": self.message_id}
        if self.kind == "note":
            found["text"] = self.reason
        if self.kind == "correction":
            found.update(disposition=self.disposition, previous=self.previous, via=self.via)
        return found


@dataclass(frozen=True)
class RecordedMessage:
    """A message as routed once: what was decided for it, kept so a re-run recognises it."""

    message_id: str
    disposition: str
    stage: int | None
    case_ref: str | None
    organisation: str | None
    commissioned: bool | None
    reasons: tuple[str, ...] = ()
    subject: str = ""
    sender: str | None = None
    sender_name: str = ""
    source: str | None = None
    recorded: str = ""
    excerpt: str = ""
    received: str | None = None
    """When the message came: its Date header, or the server's INTERNALDATE when that is absurd."""
    routed_disposition: str | None = None
    """The router's own disposition, kept when a caseworker corrected ``disposition``."""


def caseworker() -> str:
    """Who is at this machine (their login name; 'caseworker' when that is unknown), the actor of
    a case change a person makes without naming anyone."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "caseworker"


def case_ref_pattern(profile: Profile | None = None) -> re.Pattern[str]:
    """A case reference in brackets, as it travels in subjects: [BXC-2026-0007].

    Group 1 is the reference; the case of its letters and spaces inside the brackets do not
    matter. With a profile, its prefix only; without, any prefix a profile may have.
    """
    prefix = re.escape(profile.case_prefix) if profile is not None else CASE_PREFIX
    return re.compile(r"\[\s*(" + prefix + r"-\d{4}-\d{4,})\s*\]", re.IGNORECASE)


CASE_REF_IN_TEXT = re.compile(rf"\s*{case_ref_pattern().pattern}\s*", re.IGNORECASE)
"""A case reference in brackets (any profile's) with the spaces around it, to take out of a topic."""
