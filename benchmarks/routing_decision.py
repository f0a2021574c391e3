"""Benchmark: how long routing takes to decide one message, against the 2 ms a message budget.

Every message of the labelled training corpus (tests/data/mail/corpus/train-*, .eml
files and each thread's messages) is parsed once; then the decision alone is timed, over several
rounds: reading the sender's own words (quotes, signatures, forwards), the rules, the two learned
models and the stage decision, with no register (what `mail classify` does without one). Parsing
is timed separately, for comparison. Prints `ratio: X.XX` (the 2 ms budget over the measured mean
decision time, so above 1 is within budget) last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compact_docs.rules.disputes import decide_stage  # noqa: E402
from mailflows.config import require_config  # noqa: E402
from mailflows.facts import read_message  # noqa: E402
from mailflows.mailboxes import read_mbox  # noqa: E402
from mailflows.parsing import parse_message  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "mail" / "corpus"
BUDGET_MS = 2.0


def corpus_messages() -> list[bytes]:
    raws: list[bytes] = []
    for folder in sorted(p.name for p in CORPUS.glob("train-*")):
        for name in sorted(json.loads((CORPUS / folder / "labels.json").read_text(encoding="utf-8"))):
            path = CORPUS / folder / name
            raws += [m.data for m in read_mbox(path)] if name.endswith(".mbox") else [path.read_bytes()]
    return raws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    config = require_config(CORPUS / "compact.toml")
    raws = corpus_messages()
    started = time.perf_counter()
    parsed = [parse_message(raw) for raw in raws]
    parse_ms = 1000 * (time.perf_counter() - started) / len(raws)
    profile = config.compact_profile
    for message in parsed[:20]:  # warm up: the weights are read and the patterns compiled once
        decide_stage(profile, read_message(message, config).facts)
    rounds: list[float] = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for message in parsed:
            decide_stage(profile, read_message(message, config).facts)
        rounds.append(1000 * (time.perf_counter() - started) / len(parsed))
    decide_ms = sum(rounds) / len(rounds)
    print(f"messages: {len(parsed)}")
    print(f"parse: {parse_ms:.2f} ms a message")
    print(f"decide: {decide_ms:.2f} ms a message (mean of {args.rounds} rounds; best {min(rounds):.2f})")
    print(f"ratio: {BUDGET_MS / decide_ms:.2f}")


if __name__ == "__main__":
    main()
