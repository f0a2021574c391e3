"""Measuring routing on labelled mail: `mail evaluate`."""

from __future__ import annotations

import json
import mailbox
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from compact_docs.errors import MailError
from mailflows.config import require_config
from mailflows.evaluation import evaluate_folder

MAIL = Path(__file__).resolve().parent / "data" / "mail"
CONFIG = require_config(MAIL / "compact.toml")


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    folder = tmp_path / "labelled"
    folder.mkdir()
    labels: dict[str, object] = {}
    for name, label in (("01-late-payment.eml", "stage-1"), ("14-not-commissioned-objection.eml", "stage-2"),
                        ("21-auto-submitted-ooo.eml", "ignored"), ("32-thank-you.eml", "needs-triage"),
                        ("10-already-raised.eml", "stage-1")):  # a wrong label, on purpose
        shutil.copy(MAIL / "messages" / name, folder / name)
        labels[name] = label
    box = mailbox.mbox(str(folder / "b.mbox"))
    for name in ("b1.eml", "b2.eml", "b3.eml"):
        box.add((MAIL / "threads" / name).read_bytes())
    box.close()
    labels["b.mbox"] = ["stage-1", "stage-2", "stage-2"]
    (folder / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    return folder


def test_evaluate_counts_per_disposition_and_confuses(labelled: Path) -> None:
    evaluation = evaluate_folder(labelled, CONFIG)
    assert len(evaluation.outcomes) == 8
    assert [o.source for o in evaluation.outcomes if not o.right] == ["10-already-raised.eml"]
    assert evaluation.per_disposition()["stage-1"] == (2, 3)
    assert evaluation.confusion()["stage-1"]["stage-2"] == 1
    assert evaluation.wrong_stage == (1, 6)
    data = evaluation.to_dict()
    assert data["right"] == 7 and data["wrong"][0]["got"] == "stage-2" and data["wrong"][0]["reasons"]
    text = "\n".join(evaluation.lines(show_wrong=True))
    assert "7 of 8 right (87.5%)" in text and "expected \\ got" in text
    assert "10-already-raised.eml: expected stage-1, got stage-2" in text


def test_mail_evaluate_command(labelled: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["mail", "evaluate", str(labelled), "--config", str(MAIL / "compact.toml")])
    assert result.exit_code == 0, result.output
    assert "stage-2" in result.output and "7 of 8 right" in result.output
    shutil.copy(MAIL / "compact.toml", labelled / "compact.toml")  # FOLDER/compact.toml by default
    result = runner.invoke(cli, ["mail", "evaluate", str(labelled), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["per_disposition"]["ignored"] == {"right": 1, "total": 1, "accuracy": 1.0}
    assert not (labelled / "cases.db").exists()  # nothing is written


def test_evaluate_refuses_a_folder_without_labels(tmp_path: Path) -> None:
    with pytest.raises(MailError, match=r"no labels\.json"):
        evaluate_folder(tmp_path, CONFIG)
    (tmp_path / "labels.json").write_text('{"missing.eml": "stage-1"}', encoding="utf-8")
    with pytest.raises(MailError, match=r"names missing\.eml"):
        evaluate_folder(tmp_path, CONFIG)
