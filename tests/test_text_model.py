"""The learned part of routing, read with plain Python: features, scores, weights files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compact_docs.errors import ConfigError
from mailflows.text_model import FORMAT, LinearModel, RoutingModels, features, load_models, tokens


def test_features_are_words_bigrams_characters_and_rules() -> None:
    vector = features("The payment is late, late again!", ["tried-failed"])
    assert {"w:late", "b:is late", "c: lat", "c:ate ", "r:tried-failed"} <= set(vector)
    assert vector["r:tried-failed"] == 1.0
    words = [v for k, v in vector.items() if k[0] in "wb"]
    assert abs(sum(v * v for v in words) - 1.0) < 1e-9  # each family has unit length
    assert tokens("£4,500 on 3 Nov") == ["0", "0", "on", "0", "nov"]
    assert features("Same words.") == features("Same words.")


def test_a_linear_model_scores_and_names_the_words_that_weighed() -> None:
    model = LinearModel(-1.0, {"w:late": 3.0, "w:thanks": -2.0, "w:the": 5.0})
    score = model.score(features("late late late"))
    assert score.probability > 0.5 and score.towards[0] == "late"
    thanks = model.score(features("thanks"))
    assert thanks.probability < 0.5 and thanks.words() == "'thanks'"
    assert model.score(features("the")).words() == "no telling words"  # 'the' tells a reader nothing


def test_the_bundled_weights_load_without_scikit_learn() -> None:
    models = load_models()
    assert models.get("dispute") is not None and models.get("tried") is not None
    dispute = models.get("dispute")
    assert dispute is not None
    late = dispute.score(features("Our Q2 payment is now five weeks late and we cannot pay staff."))
    thanks = dispute.score(features("Thank you for the lovely workshop, see you at the AGM."))
    assert late.probability > thanks.probability


def test_routing_imports_no_scikit_learn() -> None:
    root = Path(__file__).resolve().parent.parent
    code = ("import sys; from mailflows.route import classify_file; "
            f"d = classify_file({str(root / 'tests/data/mail/messages/01-late-payment.eml')!r}); "
            "assert d.disposition.startswith('stage-'), d; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'numpy', 'scipy')]")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_weights_round_trip_and_bad_files(tmp_path: Path) -> None:
    models = RoutingModels({"dispute": LinearModel(0.5, {"w:late": 1.25})}, "(test)", {"texts": 1})
    path = tmp_path / "w.json"
    path.write_text(json.dumps(models.to_data()), encoding="utf-8")
    loaded = load_models(path)
    assert loaded.get("dispute") == LinearModel(0.5, {"w:late": 1.25}) and loaded.get("tried") is None
    path.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a compact-docs routing weights file"):
        load_models(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_models(path)
    with pytest.raises(ConfigError, match="cannot read the routing weights"):
        load_models(tmp_path / "missing.json")
    assert FORMAT in json.dumps(models.to_data())
