"""Measuring routing on labelled mail: accuracy per disposition and a confusion matrix.

A folder holds .eml files and .mbox threads with a labels.json of file name -> disposition (a
list for a thread, one per message in order). Each .eml is classified on its own, as if it were
the first message the mailbox saw; each thread is routed in order into a throwaway register, so
its replies join (and escalate) the case its first message opened.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compact_docs.disputes import DISPOSITIONS
from compact_docs.errors import MailError
from compact_docs.register import CaseRegister
from mailflows.config import MailConfig
from mailflows.mailboxes import read_mbox
from mailflows.parsing import parse_message
from mailflows.route import classify, route_message


@dataclass(frozen=True)
class Outcome:
    """One labelled message: where it should go, where it went, and why."""

    source: str
    expected: str
    got: str
    reasons: tuple[str, ...] = ()

    @property
    def right(self) -> bool:
        """Whether the router gave the label."""
        return self.expected == self.got


@dataclass
class Evaluation:
    """The outcomes on one folder, and the figures `mail evaluate` prints."""

    folder: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        """The share of messages given their label."""
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def per_disposition(self) -> dict[str, tuple[int, int]]:
        """For each label: (messages given it, messages that carry it)."""
        found: dict[str, tuple[int, int]] = {}
        for label in self.labels:
            carrying = [o for o in self.outcomes if o.expected == label]
            found[label] = (sum(o.right for o in carrying), len(carrying))
        return found

    @property
    def labels(self) -> list[str]:
        """The dispositions that occur, in the usual order."""
        seen = {o.expected for o in self.outcomes} | {o.got for o in self.outcomes}
        return [d for d in DISPOSITIONS if d in seen] + sorted(seen - set(DISPOSITIONS))

    def confusion(self) -> dict[str, dict[str, int]]:
        """expected -> got -> count."""
        matrix = {e: dict.fromkeys(self.labels, 0) for e in self.labels}
        for o in self.outcomes:
            matrix[o.expected][o.got] += 1
        return matrix

    @property
    def wrong_stage(self) -> tuple[int, int]:
        """(disputes filed at stage 1 for 2 or 2 for 1, disputes labelled stage 1 or 2)."""
        disputes = [o for o in self.outcomes if o.expected in ("stage-1", "stage-2")]
        swapped = [o for o in disputes if {o.expected, o.got} == {"stage-1", "stage-2"}]
        return len(swapped), len(disputes)

    @property
    def milliseconds_per_message(self) -> float:
        """Average time to parse and decide one message."""
        return 1000 * self.seconds / len(self.outcomes) if self.outcomes else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The `mail evaluate --json` object."""
        swapped, disputes = self.wrong_stage
        return {
            "folder": self.folder, "messages": len(self.outcomes),
            "right": sum(o.right for o in self.outcomes), "accuracy": round(self.accuracy, 4),
            "per_disposition": {k: {"right": r, "total": t, "accuracy": round(r / t, 4) if t else None}
                                for k, (r, t) in self.per_disposition().items()},
            "confusion": self.confusion(),
            "wrong_stage": {"count": swapped, "disputes": disputes},
            "ms_per_message": round(self.milliseconds_per_message, 3),
            "wrong": [{"source": o.source, "expected": o.expected, "got": o.got,
                       "reasons": list(o.reasons)} for o in self.outcomes if not o.right],
        }

    def lines(self, *, show_wrong: bool = False) -> Iterator[str]:
        """The report as text lines: totals, per disposition, the confusion matrix."""
        right = sum(o.right for o in self.outcomes)
        yield f"{self.folder}: {right} of {len(self.outcomes)} right ({self.accuracy:.1%})"
        for label, (r, t) in self.per_disposition().items():
            if t:
                yield f"  {label:<13} {r:>4} of {t:<4} {r / t:6.1%}"
        swapped, disputes = self.wrong_stage
        if disputes:
            yield f"  stage 1 for 2 or 2 for 1: {swapped} of {disputes} disputes ({swapped / disputes:.1%})"
        yield f"  {self.milliseconds_per_message:.2f} ms a message (parse and decide)"
        labels = self.labels
        short = {label: label.replace("needs-triage", "triage") for label in labels}
        yield ""
        yield "  expected \\ got " + "".join(f"{short[g]:>9}" for g in labels)
        for expected, row in self.confusion().items():
            yield f"  {short[expected]:<15}" + "".join(f"{row[g]:>9}" for g in labels)
        if show_wrong:
            yield ""
            for o in self.outcomes:
                if not o.right:
                    yield f"  {o.source}: expected {o.expected}, got {o.got}"
                    for reason in o.reasons:
                        yield f"      - {reason}"


def _labels(folder: Path) -> dict[str, Any]:
    path = folder / "labels.json"
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MailError(f"no labels.json in {folder}: it names each file's disposition") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MailError(f"cannot read {path}: {exc}") from exc
    if not isinstance(labels, dict):
        raise MailError(f"{path}: expected an object of file name -> disposition")
    return labels


def _thread(path: Path, labels: list[str], config: MailConfig, scratch: Path) -> Iterator[Outcome]:
    messages = [m.data for m in read_mbox(path)]
    if len(messages) != len(labels):
        raise MailError(f"{path.name}: {len(messages)} messages but {len(labels)} labels")
    database = scratch / f"{path.stem}.db"
    with CaseRegister(database, config.compact_profile) as register:
        for index, (raw, label) in enumerate(zip(messages, labels, strict=True)):
            decision = route_message(raw, config, register, source=path.name)
            yield Outcome(f"{path.name}#{index + 1}", label, decision.disposition, decision.reasons)


def evaluate_folder(folder: str | Path, config: MailConfig) -> Evaluation:
    """Route every labelled message of a folder and compare with its label (nothing kept)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MailError(f"{folder} is not a folder of labelled mail")
    labels = _labels(folder)
    evaluation = Evaluation(str(folder))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="compact-evaluate-") as scratch:
        for name, label in sorted(labels.items()):
            path = folder / name
            if not path.is_file():
                raise MailError(f"labels.json names {name}, which is not in {folder}")
            if isinstance(label, list):
                evaluation.outcomes += _thread(path, [str(x) for x in label], config, Path(scratch))
                continue
            decision = classify(parse_message(path.read_bytes(), config.max_text_chars), config)
            evaluation.outcomes.append(Outcome(name, str(label), decision.disposition, decision.reasons))
    evaluation.seconds = time.perf_counter() - started
    return evaluation
