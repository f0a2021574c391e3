"""Template linting and lookup: syntax errors with file and line or paragraph, unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA

from cli import cli
from compact_docs.errors import TemplateError
from compact_docs.template_folder import TemplateFolder, bundled_folder, candidate_names
from compact_docs.templates_lint import kinds_for, lint_folder

BAD = DATA / "letters" / "templates-bad"
CUSTOM = DATA / "letters" / "templates-custom"


def test_bundled_templates_are_clean_and_found_as_package_data() -> None:
    assert lint_folder() == []
    names = {p.name for p in bundled_folder().iterdir()}
    assert {"letter.docx", "letter.html", "letter.css"} <= names


def test_bad_templates_are_reported_with_file_and_line_or_paragraph() -> None:
    problems = [str(p) for p in lint_folder(BAD)]
    assert any(p.startswith("notice.html: line ") and "Jinja syntax error" in p
               and "'endif'" in p for p in problems)
    assert "escalation.docx: paragraph 2 ('Case {{ letter.case_ref }{{ title }}'): Jinja " \
           "syntax error: unexpected '}'" in problems
    assert any(p.startswith("agreement.html: line 7: uses 'mystery_value'") for p in problems)
    assert "agreement.html: line 6: uses 'letter.funding.reference', which the agreement " \
           "letter data does not have" in problems
    assert "agreement.html: file: includes 'missing.css', which is not a template" in problems
    stage_2 = [p for p in problems if p.startswith("escalation-stage-2.docx: paragraph 3 ")]
    assert len(stage_2) == 2
    assert any("'not_a_name'" in p for p in stage_2)
    assert any("'letter.funding.reference', which the escalation letter" in p for p in stage_2)
    assert not any("letter.case_ref" in p and "does not have" in p for p in problems)


def test_a_good_user_template_lints_clean() -> None:
    assert lint_folder(CUSTOM) == []


def test_lint_command_exit_codes(runner: CliRunner) -> None:
    clean = runner.invoke(cli, ["templates", "lint"])
    assert clean.exit_code == 0 and clean.output == "3 templates, no problems\n"
    bad = runner.invoke(cli, ["templates", "lint", str(BAD)])
    assert bad.exit_code == 1
    assert len(bad.output.splitlines()) == 7


def test_lookup_prefers_the_stage_then_the_kind_then_the_shared_layout() -> None:
    assert candidate_names("escalation", "docx", 2) == [
        "escalation-stage-2.docx", "escalation.docx", "letter.docx"]
    folder = TemplateFolder(BAD)
    assert folder.for_letter("escalation", "docx", 2).name == "escalation-stage-2.docx"
    assert folder.for_letter("escalation", "docx", 1).name == "escalation.docx"
    assert folder.for_letter("notice", "docx").origin == "bundled"
    assert folder.for_letter("notice", "pdf").origin == str(BAD)
    assert kinds_for("escalation-stage-3.html") == ("escalation",)
    assert len(kinds_for("letter.html")) == 5


def test_a_missing_template_folder_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        TemplateFolder(tmp_path / "nope")


def test_a_broken_user_template_fails_with_a_template_error(tmp_path: Path) -> None:
    from conftest import EXAMPLES

    from compact_docs import render

    with pytest.raises(TemplateError, match=r"notice.html .*line"):
        render(EXAMPLES / "notice.yaml", formats=("pdf",), out_dir=tmp_path, templates=BAD)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_docx_is_reported_not_raised(tmp_path: Path) -> None:
    from conftest import EXAMPLES

    from compact_docs import render

    (tmp_path / "notice.docx").write_text("not a word file", encoding="utf-8")
    assert [str(p) for p in lint_folder(tmp_path)] == ["notice.docx: file: not a DOCX file"]
    with pytest.raises(TemplateError, match="is not a DOCX file"):
        render(EXAMPLES / "notice.yaml", formats=("docx",), out_dir=tmp_path / "out",
               templates=tmp_path)
    assert not (tmp_path / "out").exists()


def test_an_unknown_filter_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "notice.html").write_text("<p>\n{{ organisation | nosuchfilter }}</p>\n", encoding="utf-8")
    problems = [str(p) for p in lint_folder(tmp_path)]
    assert any("notice.html: line 2" in p and "No filter named 'nosuchfilter'" in p for p in problems), problems


def test_lint_checks_attributes_against_the_letter_context(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "notice.html").write_text(
        "<p>{{ organisation.name }}</p>\n"
        "<p>{{ letter.organisation.nmae }}</p>\n"
        "<p>{{ profile.short_nam }} {{ letter_date.year }} {{ dates.effective }} {{ title.upper() }}</p>\n"
        "<p>{{ report.compliant }}</p>\n", encoding="utf-8")
    problems = [str(p) for p in lint_folder(tmp_path)]
    assert problems == [
        "notice.html: line 1: uses 'organisation.name', but 'organisation' (a str) has no 'name'; "
        "did you mean `letter.organisation.name`?",
        "notice.html: line 2: uses 'letter.organisation.nmae', which the notice letter data does not "
        "have; did you mean `letter.organisation.name`?",
        "notice.html: line 3: uses 'profile.short_nam', but 'profile' (a Profile) has no "
        "'short_nam'; did you mean `profile.short_name`?",
    ]
    result = runner.invoke(cli, ["templates", "lint", str(tmp_path)])
    assert result.exit_code == 1 and "did you mean `letter.organisation.name`?" in result.output


def test_a_name_the_template_sets_itself_is_its_own(tmp_path: Path) -> None:
    (tmp_path / "notice.html").write_text(
        "{% set organisation = letter.organisation %}<p>{{ organisation.name }}</p>\n"
        "{% for b in blocks %}{{ b.text }}{% endfor %}\n", encoding="utf-8")
    assert lint_folder(tmp_path) == []
