"""The learned part of routing: linear text classifiers over word and character n-grams, in plain Python.

The weights are fitted by `mailflows.training` (scikit-learn, an optional extra) and shipped as
a small JSON file; reading them and scoring a message needs nothing but the standard library.
Each model answers one question ('dispute': is this a dispute at all? 'tried': has a commissioned
organisation already tried to settle it with its commissioner, and failed?) with a probability and
the words that weighed most, for the decision's reasons. The rules stay the record of why; the
models only weigh the words.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import chain, pairwise
from operator import mul
from pathlib import Path
from typing import Any

from compact_docs.errors import ConfigError

FORMAT = "compact-docs routing weights 1"
MAX_CHARS = 2_000
"""How much of a message's own words the models read (the start says what a message is about)."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", re.UNICODE)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
CHAR_SIZES = (4,)


@lru_cache(maxsize=50_000)
def _word_grams(word: str) -> tuple[str, ...]:
    """A word's character n-grams, padded with spaces at both ends ('c: lat', 'c:late ')."""
    padded = f" {word} "
    return tuple(f"c:{padded[i:i + n]}" for n in CHAR_SIZES for i in range(len(padded) - n + 1))


def tokens(text: str) -> list[str]:
    """The words of a text, lower-cased, with digits folded to 0 ('£4,500' -> '0', '0')."""
    found = _WORD.findall(text[:MAX_CHARS].translate(_QUOTES).lower())
    return ["0" if w[0].isdigit() else w for w in found]


def features(text: str, rules: Iterable[str] = ()) -> dict[str, float]:
    """The feature vector of a text: word unigrams and bigrams, character 3-5-grams, and rules.

    Counts are damped (1 + log n) and each family (words, characters) is scaled to unit length,
    so a long message weighs no more than a short one; a rule that fired is a feature 'r:NAME'
    of value 1, so the model learns how far to trust each rule.
    """
    words = tokens(text)
    word_counts: Counter[str] = Counter(f"w:{w}" for w in words)
    word_counts.update(f"b:{a} {b}" for a, b in pairwise(words))
    # Counted in one pass over every occurrence's grams (one Counter call, not one a word).
    char_counts: Counter[str] = Counter(chain.from_iterable(
        _word_grams(word[:30]) for word in words if len(word) > 1 and not word.isdigit()))
    vector: dict[str, float] = {}
    for counts in (word_counts, char_counts):
        # Most n-grams occur once (1 + log 1 = 1): only the repeated ones are worked out.
        repeated = {k: 1.0 + math.log(n) for k, n in counts.items() if n > 1}
        norm = math.sqrt(len(counts) - len(repeated) + sum(v * v for v in repeated.values())) or 1.0
        scale = 1.0 / norm
        vector.update(dict.fromkeys(counts, scale))
        vector.update({k: v * scale for k, v in repeated.items()})
    for rule in rules:
        vector[f"r:{rule}"] = 1.0
    return vector


@lru_cache(maxsize=65_536)
def describe_feature(name: str) -> str:
    """A feature as a reader sees it: 'late', 'no reply', '…aid…', 'rule: tried-informal phrase'."""
    kind, _, value = name.partition(":")
    if kind == "c":
        return "…" + value.strip() + "…" if value.strip() == value else value.strip()
    if kind == "r":
        return f"rule {value}"
    return value


@dataclass(frozen=True)
class Score:
    """One model's answer for one text: a probability, and what each feature contributed."""

    probability: float
    names: tuple[str, ...] = field(default=(), repr=False)
    parts: tuple[float, ...] = field(default=(), repr=False)
    """What each feature in `names` added to the answer's log-odds."""

    @property
    def contributions(self) -> list[tuple[float, str]]:
        """What each feature of the text added to the answer's log-odds."""
        return list(zip(self.parts, self.names, strict=True))

    @property
    def towards(self) -> tuple[str, ...]:
        """The telling features that pushed towards 'yes', strongest first."""
        return _readable(name for part, name in heapq.nlargest(40, self.contributions) if part > 0)[:6]

    @property
    def against(self) -> tuple[str, ...]:
        """The telling features that pushed towards 'no', strongest first."""
        return _readable(name for part, name in heapq.nsmallest(40, self.contributions) if part < 0)[:6]

    def words(self, limit: int = 5) -> str:
        """The top-weighted words for the answer, for a reason: "'five weeks', 'late', 'unpaid'"."""
        shown = self.towards[:limit] if self.probability >= 0.5 else self.against[:limit]
        return ", ".join(f"'{w}'" for w in shown) or "no telling words"


@dataclass(frozen=True)
class LinearModel:
    """A logistic-regression model: an intercept and one weight per feature."""

    intercept: float
    weights: Mapping[str, float]

    def score(self, vector: Mapping[str, float]) -> Score:
        """The probability of the positive answer, and what each feature contributed to it."""
        weights = self.weights
        # The set intersection and the products run in C: this is most of routing's time.
        names = tuple(vector.keys() & weights.keys())
        parts = tuple(map(mul, map(weights.__getitem__, names), map(vector.__getitem__, names)))
        total = self.intercept + sum(parts)
        return Score(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total)))), names, parts)


_QUIET = frozenset((
    "0", "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "from", "by",
    "with", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these",
    "those", "we", "our", "us", "you", "your", "i", "me", "my", "he", "she", "they", "them",
    "their", "his", "her", "hi", "dear", "if", "so", "not", "no", "do", "did", "have", "has",
    "had", "will", "would", "can", "could", "there", "here", "what", "which", "who", "when",
    "also", "just",
))


@lru_cache(maxsize=65_536)  # feature names recur from message to message
def _telling(name: str) -> bool:
    """Whether a feature says something to a reader (not 'the', '0', 'of the')."""
    kind, _, value = name.partition(":")
    if kind == "r":
        return True
    if kind == "c":
        return len(value.strip()) >= 4
    return any(word not in _QUIET and len(word) > 1 for word in value.split())


def _readable(names: Iterable[str]) -> tuple[str, ...]:
    """Distinct telling words, words and bigrams first (a character n-gram only if nothing else)."""
    seen: list[str] = []
    grams: list[str] = []
    for name in names:
        if not _telling(name):
            continue
        shown = describe_feature(name)
        target = grams if name.startswith("c:") else seen
        if shown not in seen and shown not in grams:
            target.append(shown)
        if len(seen) >= 8:
            break
    return tuple(seen + grams[: max(0, 3 - len(seen))])


@dataclass(frozen=True)
class RoutingModels:
    """The models routing reads, as loaded from one weights file."""

    models: Mapping[str, LinearModel]
    source: str
    trained: Mapping[str, Any]

    def get(self, name: str) -> LinearModel | None:
        """A model by name ('dispute', 'tried'), or None when the file has none."""
        return self.models.get(name)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str) -> RoutingModels:
        """Models from the parsed JSON of a weights file."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ConfigError(f"{source} is not a compact-docs routing weights file ({FORMAT!r})")
        models = {}
        for name, model in dict(data.get("models", {})).items():
            models[str(name)] = LinearModel(float(model["intercept"]),
                                            {str(k): float(v) for k, v in model["weights"].items()})
        return cls(models, source, dict(data.get("trained", {})))

    def to_data(self) -> dict[str, Any]:
        """The JSON form of the models (weights rounded; zero weights left out)."""
        return {
            "format": FORMAT,
            "trained": dict(self.trained),
            "models": {name: {"intercept": round(m.intercept, 5),
                              "weights": {k: round(w, 5) for k, w in sorted(m.weights.items())
                                          if round(w, 5) != 0}}
                       for name, m in self.models.items()},
        }


BUNDLED_WEIGHTS = "routing-weights.json"


@lru_cache(maxsize=1)
def bundled_weights_exist() -> bool:
    """Whether compact-docs was shipped with routing weights (a build always is)."""
    return resources.files("mailflows").joinpath("data", BUNDLED_WEIGHTS).is_file()


@lru_cache(maxsize=8)
def _load(path: str, stamp: tuple[int, int] = (0, 0)) -> RoutingModels:
    if path == "(bundled)":
        text = resources.files("mailflows").joinpath("data", BUNDLED_WEIGHTS).read_text(encoding="utf-8")
        source = f"{BUNDLED_WEIGHTS} (bundled)"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the routing weights {path}: {exc}") from exc
        source = path
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc}") from exc
    return RoutingModels.from_data(data, source)


def load_models(path: str | Path | None = None) -> RoutingModels:
    """The routing models of a weights file (as written by `mail train`), or the bundled ones."""
    if path is None:
        return _load("(bundled)")
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read the routing weights {resolved}: {exc.strerror or exc}") from exc
    # The file's time and size are part of the key, so a file `mail train` rewrote is read again.
    return _load(str(resolved), (stat.st_mtime_ns, stat.st_size))


def forget_loaded() -> None:
    """Forget weights files read before (after `mail train` has written a new one)."""
    _load.cache_clear()
