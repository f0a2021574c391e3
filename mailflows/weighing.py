"""Weighing a message's own words: the profile's issue types, the phrase rules and the learned models.

The rules that fired become features of the models ('r:dispute-phrase', 'r:issue-monitoring'), so
each model learns how far to trust each rule, and the reasons name both the rule and the words.
"""

from __future__ import annotations

import re

from compact_docs.disputes import FoundIssue, Weighed
from compact_docs.profile import Profile
from mailflows.config import MailConfig
from mailflows.text_model import RoutingModels, bundled_weights_exist, features, load_models

_NORMAL = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": "-", "\u00a0": " "})
POLICY = re.compile(r"polic|board|cabinet|governing|strategic|councillor|members? decision")
"""Escalation phrases that ask for a policy decision (stage 3 in Bexley) rather than more seniority."""


_compiled: dict[int, tuple[Profile, tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]]] = {}


def _issue_patterns(profile: Profile) -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    known = _compiled.get(id(profile))
    if known is None or known[0] is not profile:
        patterns = tuple((t.id, tuple(re.compile(p) for p in t.patterns))
                         for t in profile.dispute.issue_types)
        known = _compiled[id(profile)] = (profile, patterns)
    return known[1]


def find_issue_types(profile: Profile, text: str) -> tuple[FoundIssue, ...]:
    """The profile's issue types whose words are in a text, each with the words that matched."""
    normal = " ".join(text.translate(_NORMAL).lower().split())
    found: list[FoundIssue] = []
    for issue_id, patterns in _issue_patterns(profile):
        for pattern in patterns:
            match = pattern.search(normal)
            if match:
                words = match.group(0).strip()
                shown = words if len(words) <= 60 else words[:57].rstrip() + "..."
                found.append(FoundIssue(issue_id, f"'{shown}'"))
                break
    return tuple(found)


def rule_names(dispute: tuple[str, ...], tried: tuple[str, ...],
               issues: tuple[FoundIssue, ...]) -> list[str]:
    """The rules that fired, as model features."""
    names = [f"issue-{i.id}" for i in issues]
    if dispute:
        names.append("dispute-phrase")
    if tried:
        names.append("tried-phrase")
    return names


def weigh(models: RoutingModels | None, text: str,
          rules: list[str]) -> tuple[Weighed | None, Weighed | None]:
    """The 'dispute' and 'tried' models' answers for a text, or None where there is no model."""
    if models is None:
        return None, None
    vector = features(text, rules)
    answers: list[Weighed | None] = []
    for name in ("dispute", "tried"):
        model = models.get(name)
        if model is None:
            answers.append(None)
            continue
        score = model.score(vector)
        answers.append(Weighed(score.probability, score.words()))
    return answers[0], answers[1]


def models_for(config: MailConfig) -> RoutingModels | None:
    """The models a configuration routes with: its trained weights if written, else the bundled ones."""
    if not config.mail.routing.learned:
        return None
    path = config.weights_path
    if path.is_file():
        return load_models(path)
    if not bundled_weights_exist():
        return None
    return load_models(None)
