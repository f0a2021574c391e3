"""The README's first quick-start command, run as written in a copy of the checkout and a fresh venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_wheel import venv_seeing_our_dependencies

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("notice", "service-change", "funding-end-plan", "escalation-stage-1", "escalation-stage-2",
         "escalation-stage-3", "agreement")


def quick_start_commands() -> list[str]:
    """The command lines of the README's quick start, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the quick start has a sh code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def copy_of_checkout(target: Path) -> Path:
    """The files a clone would have (tracked or new, not ignored), copied to `target`."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                                capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            source = ROOT / name
            if source.is_symlink() or source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name, follow_symlinks=False)
        return target
    shutil.copytree(ROOT, target, symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", ".*_cache", ".venv"))
    return target


def test_quick_start_is_two_commands_installing_then_testing() -> None:
    first, second = quick_start_commands()
    assert first.startswith("pip install .") and "compact-docs demo" in first
    assert "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines(), ".ci/run runs the README's second command exactly"


def test_first_quick_start_command_makes_every_letter_in_a_fresh_venv(tmp_path: Path) -> None:
    first = quick_start_commands()[0]
    clone = copy_of_checkout(tmp_path / "clone")
    python = venv_seeing_our_dependencies(tmp_path / "venv", with_pip=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(["bash", "-c", first], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    made = sorted(p.name for p in (clone / "letters").iterdir())
    for kind in KINDS:
        assert any(n.endswith(f"{kind}.docx") for n in made), kind
        pdf = next(clone / "letters" / n for n in made if n.endswith(f"{kind}.pdf"))
        reader = PdfReader(str(pdf))
        assert "Bexley" in reader.pages[0].extract_text()
        fonts = {str(f["/BaseFont"]) for page in reader.pages
                 for f in page["/Resources"]["/Font"].get_object().values()}
        assert fonts and all("Compact-Docs-Sans" in f for f in fonts), fonts
    installed = subprocess.run([str(python), "-c", "import compact_docs; print(compact_docs.__file__)"],
                               cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    assert str(tmp_path / "venv") in installed


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (Debian: poppler-utils)")
def test_letters_lay_out_the_same_with_no_fonts_installed(tmp_path: Path) -> None:
    """The hook's check, in the suite: an empty font configuration changes nothing in the PDFs."""
    empty = tmp_path / "empty.conf"
    empty.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                     f"<cachedir>{tmp_path}/fc</cachedir></fontconfig>", encoding="utf-8")
    outputs = {}
    for name, extra in (("host", {}), ("bare", {"FONTCONFIG_FILE": str(empty)})):
        env = {**os.environ, **extra}
        command = [sys.executable, "-m", "cli", "demo", "-o", str(tmp_path / name)]
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "Warning" not in result.stderr, result.stderr
        outputs[name] = {p.name: subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True,
                                                text=True, check=True).stdout
                         for p in sorted((tmp_path / name).glob("*.pdf"))}
    assert len(outputs["host"]) == len(KINDS)
    assert outputs["host"] == outputs["bare"]
