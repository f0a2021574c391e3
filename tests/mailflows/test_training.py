"""Fitting the routing models: training texts, targets, corrections, and `mail train`."""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from testdata import MAIL

from cli import cli
from compact_docs.errors import TrainingUnavailable
from compact_docs.register.cases import CaseRegister
from mailflows.config import require_config
from mailflows.parsing import parse_message
from mailflows.route import classify, route_message
from mailflows.text_model import features, load_models
from mailflows.training import (
    LabelledText,
    bundled_corpus,
    fit_models,
    read_labelled_folder,
    register_corrections,
    targets,
    train,
)

CORPUS = MAIL / "corpus"
CONFIG = require_config(CORPUS / "compact.toml")
PROFILE = CONFIG.compact_profile


def test_targets_follow_the_labels_and_leave_rule_decided_mail_out() -> None:
    assert targets(LabelledText("Payment late.", "stage-1", True), PROFILE) == {"dispute": 1, "tried": 0}
    assert targets(LabelledText("We rang twice.", "stage-2", True), PROFILE) == {"dispute": 1, "tried": 1}
    # stage 2 for its issue's type says nothing of trying: no 'tried' example
    monitoring = LabelledText("The new monitoring template asks for every client's postcode.", "stage-2", True)
    assert targets(monitoring, PROFILE) == {"dispute": 1}
    assert targets(LabelledText("Thanks!", "needs-triage", False), PROFILE) == {"dispute": 0}
    assert targets(LabelledText("Digest", "ignored", None), PROFILE) == {}
    assert targets(LabelledText("Officer", "needs-triage", None, commissioner_side=True), PROFILE) == {}
    follow = LabelledText("Still no reply.", "stage-2", True, "follow-up", case_stage=1)
    assert targets(follow, PROFILE) == {"tried": 1}


def test_the_bundled_corpus_is_the_training_folders() -> None:
    texts = bundled_corpus()
    assert len(texts) >= 200
    sources = {t.source.split("#")[0] for t in texts}
    assert {"001-weekly-portal-returns.eml", "t04-mind-crisis-cafe-dashboard-thanks.mbox"} <= sources
    folder = read_labelled_folder(CORPUS / "train-b", CONFIG)
    assert {t.text for t in folder} <= {t.text for t in texts}


def test_fit_models_learns_from_a_few_texts() -> None:
    items = [LabelledText("Our invoice is five weeks late and unpaid.", "stage-1", True),
             LabelledText("The invoice payment has not arrived, now overdue.", "stage-1", True),
             LabelledText("Thank you for the workshop, see you at the AGM.", "needs-triage", True),
             LabelledText("Could I book a place on the trustee course?", "needs-triage", True)]
    models = fit_models(items, CONFIG)
    dispute = models.get("dispute")
    assert dispute is not None and models.get("tried") is None  # only one answer to learn from
    late = dispute.score(features("The invoice is late and overdue.")).probability
    assert late > dispute.score(features("Thank you for the course.")).probability


def test_train_refits_with_the_registers_corrections(tmp_path: Path) -> None:
    (tmp_path / "compact.toml").write_text((CORPUS / "compact.toml").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    config = require_config(tmp_path / "compact.toml")
    raw = (CORPUS / "train-a" / "001-weekly-portal-returns.eml").read_bytes()
    with CaseRegister(config.database_path, config.compact_profile,
                      clock=lambda: datetime(2026, 11, 24, tzinfo=UTC)) as register:
        decision = route_message(raw, config, register)
        assert decision.case_ref is not None
        with register.transaction():
            register.add_event(decision.case_ref, "correction", 2, "caseworker", "a question, not a dispute",
                               decision.message_id, register.now(), disposition="needs-triage")
        found = register.corrections()
    assert [disposition for _, disposition in found] == ["needs-triage"]
    assert found[0][0].startswith("ICB data portal - weekly returns")
    texts = register_corrections(config)
    assert texts[0].label == "needs-triage" and texts[0].weight > 1
    result = train(config)
    assert result.corrections == 1 and result.path == tmp_path / "routing-weights.json"
    assert result.after["dispute"] > 0.9 and result.seconds < 120
    data = json.loads(result.path.read_text(encoding="utf-8"))
    assert data["trained"]["corrections"] == 1
    # routing now reads the written weights
    assert classify(parse_message(raw), config).reasons


def test_mail_train_command(tmp_path: Path) -> None:
    (tmp_path / "compact.toml").write_text((CORPUS / "compact.toml").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    result = CliRunner().invoke(cli, ["mail", "train", "--config", str(tmp_path / "compact.toml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["corrections"] == 0 and set(data["accuracy_after"]) == {"dispute", "tried"}
    assert (tmp_path / "routing-weights.json").is_file()


def test_training_without_scikit_learn_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sklearn(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(TrainingUnavailable, match=r"pip install 'compact-docs\[train\]'"):
        fit_models([], CONFIG)
    result = CliRunner().invoke(cli, ["mail", "train", "--config", str(CORPUS / "compact.toml")])
    assert result.exit_code == 2 and "compact-docs[train]" in result.output


def test_the_bundled_dispute_model_weighs_each_rule_the_way_it_points() -> None:
    model = load_models(None).get("dispute")
    assert model is not None
    weights = model.weights
    assert all(w < 0 for k, w in weights.items() if k.startswith("r:other-"))
    assert all(w > 0 for k, w in weights.items() if k.startswith(("r:tried-", "r:issue-")))
    tried = load_models(None).get("tried")
    assert tried is not None and all(w > 0 for k, w in tried.weights.items() if k.startswith("r:tried-"))
