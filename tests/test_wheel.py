"""A wheel built from the checkout, installed into a fresh venv, works from any folder."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv (seeing the already-installed dependencies) with only the built wheel added."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    # Build from a clean copy of the tracked tree, as CI's fresh clone would.
    shutil.copytree(ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__",
                                                  ".mypy_cache", ".pytest_cache", ".hypothesis"))
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True,
    )
    (wheel,) = dist.glob("compact_docs-*.whl")
    env_dir = base / "venv"
    python = venv_seeing_our_dependencies(env_dir)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         "--force-reinstall", str(wheel)],
        check=True,
    )
    return env_dir


def venv_seeing_our_dependencies(env_dir: Path, with_pip: bool = False) -> Path:
    """A new venv that sees this test run's installed packages, and returns its python.

    `system_site_packages` would show the *base* interpreter's packages, not those of a venv the
    tests run in; a .pth file names this environment's site-packages instead (after the new venv's
    own, so what is installed into it wins).
    """
    venv.EnvBuilder(with_pip=with_pip).create(env_dir)
    python = env_dir / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "_compact_docs_test_deps.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return python


def _without_pythonpath() -> dict[str, str]:
    """The environment less PYTHONPATH, which would put a checkout before the installed wheel."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(env_dir / "bin" / "compact-docs"), *args], cwd=cwd, env=_without_pythonpath(),
                          capture_output=True, text=True, timeout=300)


def _python(env_dir: Path, code: str, cwd: Path) -> str:
    """What the venv's python prints running ``code``."""
    return subprocess.run([str(env_dir / "bin" / "python"), "-c", code], cwd=cwd, env=_without_pythonpath(),
                          capture_output=True, text=True, check=True).stdout


def test_installed_wheel_uses_its_own_files(installed: Path, tmp_path: Path) -> None:
    code = ("import compact_docs, cli; print(compact_docs.__file__); print(cli.__file__)")
    out = _python(installed, code, cwd=tmp_path)
    assert str(ROOT) not in out
    assert str(installed) in out


def test_installed_wheel_checks_and_lists_profiles(installed: Path, tmp_path: Path) -> None:
    example = ROOT / "compact_docs" / "examples" / "notice.yaml"
    shutil.copy(example, tmp_path / "notice.yaml")
    result = _run(installed, "check", "notice", "notice.yaml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["compliant"] is True
    listed = _run(installed, "profiles", "list", cwd=tmp_path)
    assert "bexley" in listed.stdout and "national" in listed.stdout


def test_installed_wheel_runs_the_demo_from_any_folder(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "demo", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    for kind in ("notice", "service-change", "funding-end-plan", "escalation-stage-1", "escalation-stage-2",
                 "escalation-stage-3", "agreement"):
        assert any(kind in name and name.endswith(".docx") for name in made), kind
        assert any(kind in name and name.endswith(".pdf") for name in made), kind
    code = "import mailflows.route, compact_docs.register; print(mailflows.__file__)"
    out = _python(installed, code, cwd=tmp_path)
    assert str(installed) in out


def test_installed_wheel_ships_templates(installed: Path, tmp_path: Path) -> None:
    code = ("import json; from importlib import resources; folder = resources.files('compact_docs'); "
            "print(json.dumps([p.name for p in folder.joinpath('templates').iterdir()]))")
    out = _python(installed, code, cwd=tmp_path)
    assert {"letter.docx", "letter.html", "letter.css"} <= set(json.loads(out))


def test_installed_wheel_ships_the_migrations(installed: Path, tmp_path: Path) -> None:
    # The steps are .sql files found as package data: a wheel without them could not make a register.
    code = ("import json, sqlite3; from compact_docs.register.cases import CaseRegister; "
            "from compact_docs.rules.profile import load_profile; from mailflows.tables import MAILBOX_TABLES; "
            "CaseRegister('cases.db', load_profile('bexley'), tables=(MAILBOX_TABLES,)).close(); "
            "rows = sqlite3.connect('cases.db').execute("
            "'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').fetchall(); "
            "print(json.dumps(rows))")
    out = _python(installed, code, cwd=tmp_path)
    shipped = json.loads((ROOT / "tests" / "data" / "register" / "schema.json").read_text(encoding="utf-8"))
    assert json.loads(out) == shipped["sqlite_master"]


def test_installed_wheel_writes_the_report(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "compact.toml").write_text('profile = "bexley"\n', encoding="utf-8")
    result = _run(installed, "report", "--config", "compact.toml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.pdf"]
