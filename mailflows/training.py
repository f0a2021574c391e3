"""Fitting the routing models: labelled mail and caseworkers' corrections in, a weights file out.

Needs scikit-learn (`pip install 'compact-docs[train]'`); routing itself reads the weights with
plain Python. Each labelled message becomes up to two examples:

- 'dispute': a person's message that belongs to no case is a dispute (stage-1, -2, -3) or not
  (needs-triage). Messages rules decide whatever they say are left out: a commissioner's side's,
  and ignored mail (automatic mail, newsletters and digests).
- 'tried': a commissioned organisation's new dispute at stage 1 (no) or stage 2 (yes: it says it
  already tried to settle it with its commissioner), unless the profile's issue types put it at
  stage 2 anyway; and an organisation's follow-up on a stage-1 case, which escalates (yes) or not.

The bundled corpus is kept as these texts (the subject and the sender's own words), so `mail
train` works from an installed wheel; `export_corpus` writes it from labelled folders.
"""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from compact_docs.errors import ConfigError, MailError, TrainingUnavailable
from compact_docs.rules.profile import Profile
from mailflows.config import MailConfig
from mailflows.facts import read_message
from mailflows.mailboxes import read_mbox
from mailflows.parsing import parse_message
from mailflows.text_model import LinearModel, RoutingModels, features, forget_loaded
from mailflows.weighing import TRIED_RULES, find_issue_types, rule_names, words_to_weigh

BUNDLED_CORPUS = "routing-corpus.json.gz"
MODEL_NAMES = ("dispute", "tried")
CORRECTION_WEIGHT = 2.0
"""A caseworker's correction counts twice: it is this mailbox's own mail, judged by a person."""
_TRIED_RULES = (*(f"r:{rule}" for rule in TRIED_RULES), "r:asks-senior")


def _evidence(model: str, feature: str) -> int:
    """Which way a rule is evidence for a model: 1 for its 'yes' (never weighed against it), -1
    for its 'no' (never weighed for it: the something-else rules), 0 for either."""
    if model == "dispute":
        if feature.startswith("r:other-"):
            return -1
        return int(feature in (*_TRIED_RULES, "r:dispute-phrase") or feature.startswith("r:issue-"))
    return int(feature in _TRIED_RULES)
MIN_TEXTS = 2
"""A word or character n-gram is a feature when at least this many training texts have it."""
MAX_FEATURES = 12_000
"""The most weights a model keeps (the largest); the rest weigh too little to change a decision."""


@dataclass(frozen=True)
class LabelledText:
    """One message as training sees it: its words, its label, and whose it was.

    `kind` is 'new' (a message that belongs to no case) or 'follow-up' (an organisation's message
    on a case at stage `case_stage`); `commissioner_side` marks a message a rule decides.
    """

    text: str
    label: str
    commissioned: bool | None
    kind: str = "new"
    case_stage: int | None = None
    commissioner_side: bool = False
    weight: float = 1.0
    source: str = ""


def _labels(folder: Path) -> dict[str, Any]:
    path = folder / "labels.json"
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MailError(f"cannot read the labels {path}: {exc}") from exc
    if not isinstance(labels, dict):
        raise MailError(f"{path}: labels must be an object of file name -> disposition")
    return labels


def _texts_of(raw_messages: list[bytes], labels: list[str], config: MailConfig,
              source: str) -> Iterator[LabelledText]:
    first_org: str | None = None
    previous: str | None = None
    for index, (raw, label) in enumerate(zip(raw_messages, labels, strict=False)):
        parsed = parse_message(raw, config.max_text_chars)
        reading = read_message(parsed, config)
        facts = reading.facts
        where = f"{source}#{index + 1}" if len(raw_messages) > 1 else source
        if facts.automatic:
            previous = label if index == 0 else previous
            continue
        if index == 0:
            first_org = facts.organisation
            yield LabelledText(reading.text, label, facts.commissioned, "new",
                               commissioner_side=bool(facts.commissioner_side or facts.colleague), source=where)
        elif (previous and previous.startswith("stage-") and first_org is not None
              and facts.sender_organisation == first_org):
            yield LabelledText(reading.text, label, facts.commissioned, "follow-up",
                               case_stage=int(previous.split("-")[1]), source=where)
        if label.startswith("stage-") or index == 0:
            previous = label


def read_labelled_folder(folder: str | Path, config: MailConfig) -> list[LabelledText]:
    """The training texts of a labelled folder: .eml files and .mbox threads named in labels.json."""
    folder = Path(folder)
    found: list[LabelledText] = []
    for name, label in sorted(_labels(folder).items()):
        path = folder / name
        if isinstance(label, list) and name.endswith(".mbox"):
            raws = [m.data for m in read_mbox(path)]
            found += _texts_of(raws, [str(x) for x in label], config, name)
        elif isinstance(label, str):
            found += _texts_of([path.read_bytes()], [label], config, name)
    return found


def export_corpus(folders: Iterable[str | Path], config: MailConfig, out: str | Path) -> int:
    """Write the training texts of labelled folders as a bundled corpus file; returns their number."""
    texts = [t for folder in folders for t in read_labelled_folder(folder, config)]
    data = json.dumps([asdict(t) for t in texts], ensure_ascii=False, indent=0, sort_keys=True)
    Path(out).write_bytes(gzip.compress(data.encode("utf-8"), mtime=0))
    return len(texts)


def bundled_corpus() -> list[LabelledText]:
    """The training texts shipped with compact-docs (from the corpus under tests/data/mail/corpus)."""
    raw = resources.files("mailflows").joinpath("data", BUNDLED_CORPUS).read_bytes()
    return [LabelledText(**item) for item in json.loads(gzip.decompress(raw))]


def _stage2_by_issue(profile: Profile, text: str) -> bool:
    if not profile.dispute.routing.stage_from_issue_type:
        return False
    stages = {t.id: t.stage for t in profile.dispute.issue_types}
    return any(stages.get(i.id, 1) > 1 for i in find_issue_types(profile, text))


def targets(item: LabelledText, profile: Profile) -> dict[str, int]:
    """What one text teaches each model: {'dispute': 1, 'tried': 0} (a model absent: nothing)."""
    taught: dict[str, int] = {}
    if item.kind == "new" and not item.commissioner_side:
        if item.label.startswith("stage-"):
            taught["dispute"] = 1
        elif item.label == "needs-triage":
            taught["dispute"] = 0
    new_commissioned = item.commissioned and item.kind == "new" and item.label in ("stage-1", "stage-2")
    if new_commissioned and not (item.label == "stage-2" and _stage2_by_issue(profile, item.text)):
        taught["tried"] = int(item.label == "stage-2")
    if item.kind == "follow-up" and item.case_stage == 1 and item.label in ("stage-1", "stage-2"):
        taught["tried"] = int(item.label == "stage-2")
    return taught


def _vector(item: LabelledText, config: MailConfig) -> dict[str, float]:
    signals = config.signals
    dispute = tuple(signals.find("dispute", item.text))
    tried = tuple(signals.find("tried_informal", item.text))
    issues = find_issue_types(config.compact_profile, item.text)
    return features(words_to_weigh(item.text), rule_names(dispute, tried, issues, item.text))


@dataclass(frozen=True)
class TrainingResult:
    """What `mail train` did: how many texts and corrections, and each model's accuracy before/after."""

    path: Path
    texts: int
    corrections: int
    examples: dict[str, int]
    before: dict[str, float | None]
    after: dict[str, float]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The `mail train --json` object."""
        return {"weights": str(self.path), "texts": self.texts, "corrections": self.corrections,
                "examples": self.examples, "accuracy_before": self.before,
                "accuracy_after": self.after, "seconds": round(self.seconds, 2)}


def _sklearn() -> tuple[Any, Any]:
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise TrainingUnavailable(
            "mail train needs scikit-learn: pip install 'compact-docs[train]' "
            "(routing itself does not)") from exc
    return DictVectorizer, LogisticRegression


def fit_models(items: list[LabelledText], config: MailConfig, *, c: float = 16.0,
               note: dict[str, Any] | None = None) -> RoutingModels:
    """Fit the 'dispute' and 'tried' models on labelled texts (scikit-learn, a few seconds)."""
    dict_vectorizer, logistic_regression = _sklearn()
    profile = config.compact_profile
    vectors = [_vector(item, config) for item in items]
    models: dict[str, LinearModel] = {}
    for name in MODEL_NAMES:
        rows = [(v, t[name], item.weight) for v, item in zip(vectors, items, strict=True)
                if name in (t := targets(item, profile))]
        if len({y for _, y, _ in rows}) < 2:
            continue
        # A feature seen in only one text teaches nothing that generalises (and slows the fit).
        seen = Counter(k for v, _, _ in rows for k in v)
        vectorizer = dict_vectorizer()
        x = vectorizer.fit_transform([{k: f for k, f in v.items() if seen[k] >= MIN_TEXTS or k[0] == "r"}
                                      for v, _, _ in rows])
        y = [label for _, label, _ in rows]
        names = list(vectorizer.get_feature_names_out())
        # A rule is evidence for its answer: where the words around it made the fit weigh it
        # against that answer, the rule is left out of this model and the model fitted again
        # (until none is: leaving one out can turn another).
        while True:  # each round leaves out at least one rule, so it ends
            model = logistic_regression(C=c, class_weight="balanced", max_iter=5_000)
            model.fit(x, y, sample_weight=[w for _, _, w in rows])
            against = {i for i, n in enumerate(names) if _evidence(name, n) * model.coef_[0][i] < 0}
            if not against:
                break
            keep = [i for i in range(len(names)) if i not in against]
            x, names = x[:, keep], [names[i] for i in keep]
        weights = sorted(zip(names, model.coef_[0], strict=True), key=lambda p: -abs(p[1]))
        models[name] = LinearModel(float(model.intercept_[0]),
                                   {str(k): float(w) for k, w in weights[:MAX_FEATURES]})
    trained = {"texts": len(items), **(note or {})}
    return RoutingModels(models, "(trained)", trained)


def accuracy(models: RoutingModels | None, items: list[LabelledText],
             config: MailConfig) -> dict[str, float | None]:
    """Each model's share of right answers on labelled texts (None: no such model)."""
    profile = config.compact_profile
    result: dict[str, float | None] = {}
    for name in MODEL_NAMES:
        model = models.get(name) if models is not None else None
        rows = [(item, t[name]) for item in items if name in (t := targets(item, profile))]
        if model is None or not rows:
            result[name] = None
            continue
        right = sum(int((model.score(_vector(item, config)).probability >= 0.5) == bool(y))
                    for item, y in rows)
        result[name] = right / len(rows)
    return result


def register_corrections(config: MailConfig) -> list[LabelledText]:
    """The caseworkers' corrections kept in the configuration's register, as training texts."""
    from mailflows.route import open_register

    if not config.database_path.is_file():
        return []
    with open_register(config) as register:
        found = register.corrections()
    # Only a commissioned organisation's case is ever at stage 1: a correction to stage 1 also
    # teaches the 'tried' model (not tried); to stage 2 it does not say which organisation it was.
    return [LabelledText(text, disposition, True if disposition == "stage-1" else None,
                         weight=CORRECTION_WEIGHT, source="a caseworker's correction")
            for text, disposition in found]


def train(config: MailConfig, corrections: list[LabelledText] | None = None) -> TrainingResult:
    """Refit on the bundled corpus plus the register's corrections (or those given); write the
    weights where the configuration says ([mail.routing] weights)."""
    from mailflows.weighing import models_for

    _sklearn()
    if corrections is None:
        corrections = register_corrections(config)
    started = time.perf_counter()
    items = bundled_corpus() + corrections
    try:
        before = models_for(config)
    except ConfigError:
        before = None
    models = fit_models(items, config, note={"corrections": len(corrections)})
    path = config.weights_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(models.to_data(), ensure_ascii=False, separators=(",", ":")),
                             encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write the routing weights {path}: {exc.strerror or exc}") from exc
    forget_loaded()
    examples = {name: sum(1 for item in items if name in targets(item, config.compact_profile))
                for name in MODEL_NAMES}
    after = {k: v for k, v in accuracy(models, items, config).items() if v is not None}
    return TrainingResult(path, len(items), len(corrections), examples,
                          accuracy(before, items, config), after, time.perf_counter() - started)


def build_bundled(config: MailConfig, folders: Sequence[str | Path]) -> tuple[int, Path]:
    """Rewrite the bundled corpus and weights from labelled folders (a build step, run by hand)."""
    data = Path(__file__).resolve().parent / "data"
    count = export_corpus(folders, config, data / BUNDLED_CORPUS)
    models = fit_models(bundled_corpus(), config, note={"corpus": [Path(f).name for f in folders]})
    path = data / "routing-weights.json"
    path.write_text(json.dumps(models.to_data(), ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    forget_loaded()
    return count, path


if __name__ == "__main__":  # python -m mailflows.training CONFIG FOLDER...
    import sys

    from mailflows.config import require_config

    texts, written = build_bundled(require_config(sys.argv[1]), sys.argv[2:])
    print(f"{texts} training texts; weights written to {written}")
