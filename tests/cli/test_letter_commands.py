"""The letter commands: `compact-docs KIND DATA`, `demo` options, refusal, and the lazy PDF import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from testdata import DATA, EXAMPLES, ROOT

from cli import cli
from compact_docs.kinds import KINDS

LETTERS = DATA / "letters"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_command_with_an_example(runner: CliRunner, kind: str) -> None:
    result = runner.invoke(cli, [kind, "--help"])
    assert result.exit_code == 0
    assert f"compact-docs {kind} {kind}.yaml" in result.output
    for option in ("--format", "--profile", "--archival", "--templates", "--force", "-o"):
        assert option in result.output


def test_docx_only_is_quiet_and_prints_the_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["service-change", str(EXAMPLES / "service-change.yaml"),
                                 "-o", str(tmp_path), "--format", "docx"])
    assert result.exit_code == 0, result.output
    made = tmp_path / "lbb-fsf-2025-004_crayford-community-larder_service-change.docx"
    assert result.stdout.splitlines() == [str(made)]
    assert result.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [made.name, "manifest.jsonl"]


def test_error_finding_refuses_prints_findings_and_exits_1(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    result = runner.invoke(cli, ["notice", str(LETTERS / "refused-notice.yaml"),
                                 "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error: NOTICE_PERIOD (Commitment 2, statutory undertaking 2)" in result.stderr
    assert "error: EIA (Commitment 4, statutory undertaking 2)" in result.stderr
    assert "nothing written" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_warnings_are_printed_and_the_letter_written(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["notice", str(LETTERS / "warned-notice.yaml"), "-o",
                                 str(tmp_path), "--format", "docx"])
    assert result.exit_code == 0
    assert "warning: RESPONSE_OPPORTUNITY" in result.stderr
    assert "warning: FUNDING_TERM" in result.stderr
    assert result.stdout.strip().endswith("lbb-gr-2025-002_bexley-age-well_notice.docx")


def test_wrong_kind_and_existing_files_are_one_line_errors(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    wrong = runner.invoke(cli, ["agreement", str(EXAMPLES / "notice.yaml"), "-o", str(tmp_path)])
    assert wrong.exit_code == 2
    assert wrong.stderr.strip().count("\n") == 0 and "not 'agreement'" in wrong.stderr
    args = ["escalation", str(EXAMPLES / "escalation-stage-1.yaml"), "-o", str(tmp_path),
            "--format", "docx"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and "already exists; use --force" in again.stderr
    assert runner.invoke(cli, [*args, "--force"]).exit_code == 0


def test_profile_and_templates_options_reach_the_library(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    result = runner.invoke(cli, ["notice", str(EXAMPLES / "notice.yaml"), "-o", str(tmp_path),
                                 "--format", "pdf", "--profile", "national", "--templates",
                                 str(LETTERS / "templates-custom")])
    assert result.exit_code == 0, result.output
    [record] = [json.loads(line) for line in
                (tmp_path / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["profile"] == "national"
    assert record["templates"][0] == {
        "format": "pdf", "name": "notice.html", "origin": str(LETTERS / "templates-custom"),
        "sha256": record["templates"][0]["sha256"]}


def test_templates_list_shows_which_template_is_in_use(runner: CliRunner) -> None:
    bundled = runner.invoke(cli, ["templates", "list"])
    assert bundled.exit_code == 0
    lines = bundled.output.splitlines()
    assert len(lines) == 14
    assert all(line.endswith("bundled") for line in lines)
    custom = runner.invoke(cli, ["templates", "list", "--templates",
                                 str(LETTERS / "templates-custom")])
    notice_pdf = next(line for line in custom.output.splitlines()
                      if line.startswith("notice ") and " pdf " in line)
    assert "notice.html" in notice_pdf and str(LETTERS / "templates-custom") in notice_pdf


def _imports_after(args: list[str], cwd: Path) -> dict[str, object]:
    """Run the CLI in a fresh interpreter and report whether WeasyPrint got imported."""
    code = (
        "import json, sys, time\n"
        "start = time.perf_counter()\n"
        "sys.argv = ['compact-docs', *json.loads(sys.argv[1])]\n"
        "import cli\n"
        "code = None\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps({'weasyprint': 'weasyprint' in sys.modules, 'code': code,\n"
        "                  'seconds': time.perf_counter() - start}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=cwd,
                          capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_docx_only_never_imports_weasyprint(tmp_path: Path) -> None:
    notice = str(EXAMPLES / "notice.yaml")
    docx_only = _imports_after(["notice", notice, "-o", "a", "--format", "docx"], tmp_path)
    assert docx_only == {"weasyprint": False, "code": 0, "seconds": docx_only["seconds"]}
    with_pdf = _imports_after(["notice", notice, "-o", "b", "--format", "pdf"], tmp_path)
    assert with_pdf["weasyprint"] is True and with_pdf["code"] == 0
    assert (tmp_path / "a" / "lbb-gr-2024-017_bexley-age-well_notice.docx").exists()
    assert (tmp_path / "b" / "lbb-gr-2024-017_bexley-age-well_notice.pdf").exists()


def test_examples_command_copies_the_example_data(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import cli

    runner = CliRunner()
    first = runner.invoke(cli, ["examples", "-o", str(tmp_path / "data")])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "data" / "notice.yaml").exists()
    assert len(list((tmp_path / "data").glob("*.yaml"))) == 7
    again = runner.invoke(cli, ["examples", "-o", str(tmp_path / "data")])
    assert again.exit_code == 2
    assert "already exists; use --force to replace it" in again.output
    assert runner.invoke(cli, ["examples", "-o", str(tmp_path / "data"), "--force"]).exit_code == 0
    checked = runner.invoke(cli, ["check", "notice", str(tmp_path / "data" / "notice.yaml")])
    assert checked.exit_code == 0


def test_control_characters_never_break_the_files(tmp_path: Path) -> None:
    import compact_docs
    from compact_docs.loading import parse_text

    text = (EXAMPLES / "notice.yaml").read_text()
    data = parse_text(text, "notice.yaml")
    data["organisation"]["name"] = "\x00\x01Bexley \x0bAge\u202e Well" + " and friends" * 40
    result = compact_docs.render(data, out_dir=tmp_path)
    from docx import Document

    docx = next(p for p in result.files if p.suffix == ".docx")
    document = Document(str(docx))
    # The directional override is dropped too: the letter reads as its file name does.
    assert "Bexley Age Well" in "\n".join(p.text for p in document.paragraphs)
    assert len(document.core_properties.title) <= 255


def _notice_with(change: str) -> dict[str, object]:
    import yaml

    data: dict[str, object] = yaml.safe_load((EXAMPLES / "notice.yaml").read_text(encoding="utf-8"))
    decision, funding, funder = data["decision"], data["funding"], data["funder"]
    assert isinstance(decision, dict) and isinstance(funding, dict) and isinstance(funder, dict)
    if change == "eia-after-decision":
        data["eia"] = {**data["eia"], "date": "2026-12-20"}  # type: ignore[dict-item]
        decision["decided_on"] = "2026-11-25"
    elif change == "decision-after-notice":
        decision["decided_on"] = "2027-01-10"
    elif change == "reduction-to-more":
        funding["annual_value"] = "36,000"
        decision.update(action="reduce", new_annual_value="£40,000")
    elif change == "no-signatory":
        del funder["signatory"]
    elif change == "email-without-a-domain":
        data["organisation"]["contact"]["email"] = "jack@wellingyouthfc"  # type: ignore[index]
    return data


@pytest.mark.parametrize(("change", "code", "says"), [
    ("eia-after-decision", 1, "EIA (Commitment 2, statutory undertaking 5)"),
    ("decision-after-notice", 1, "DECISION (Commitment 2, statutory undertaking 2)"),
    ("reduction-to-more", 1, "decision.new_annual_value"),
    ("no-signatory", 2, "funder.signatory: is required"),
    ("email-without-a-domain", 2, "organisation.contact.email: has no real domain"),
])
def test_a_notice_that_contradicts_itself_is_refused_with_nothing_written(
        runner: CliRunner, tmp_path: Path, change: str, code: int, says: str) -> None:
    data = tmp_path / "notice.yaml"
    data.write_text(json.dumps(_notice_with(change), default=str), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["notice", str(data), "-o", str(out)])
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_the_cli_says_use_force_for_a_file_that_exists(runner: CliRunner, tmp_path: Path) -> None:
    args = ["notice", str(EXAMPLES / "notice.yaml"), "-o", str(tmp_path), "--format", "docx"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 2
    assert again.stderr.strip().endswith("already exists; use --force to replace it")
