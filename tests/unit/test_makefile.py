"""The Makefile as a new user meets it (issue 16): ``make help`` lists every target once,
``make serve`` takes ``HOST=`` and ``PORT=``, and a ``.venv`` whose Python does not satisfy
``requires-python`` is rebuilt instead of failing for ever (a first try with Python 3.10)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    line = re.search(r"^\.PHONY: (.+)$", text, re.MULTILINE)
    assert line
    return set(line.group(1).split())


def test_help_lists_every_target_once() -> None:
    result = make(ROOT, "help")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip().splitlines()
    named = [line.split()[1] for line in lines]
    assert sorted(named) == sorted(phony_targets())
    assert all(line.startswith("  make ") and len(line.split()) > 2 for line in lines)


def test_serve_takes_host_and_port() -> None:
    out = make(ROOT, "-n", "serve", "HOST=0.0.0.0", "PORT=9001").stdout.strip().splitlines()
    assert out[-1].endswith("acctsync serve --host 0.0.0.0 --port 9001"), out
    out = make(ROOT, "-n", "serve").stdout.strip().splitlines()
    assert out[-1].endswith("acctsync serve --host 127.0.0.1 --port 8000"), out


@pytest.mark.parametrize(
    ("version", "ok"), [("3.10.12", False), ("3.11.0", True), ("3.13.9", True), ("3.14.0", False)]
)
def test_python_ok_reads_requires_python(version: str, ok: bool) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "python_ok.py"), "--version", version],
        capture_output=True,
        text=True,
    )
    assert (result.returncode == 0) is ok
    if not ok:
        assert f"Python {version}" in result.stderr and "requires-python" in result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The Makefile, pyproject.toml and the version check, in a folder of their own."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "python_ok.py", tmp_path / "scripts")
    return tmp_path


def fake_python(path: Path, version: str) -> Path:
    """An interpreter that claims ``version`` to the version check."""
    path.write_text(f'#!/bin/sh\nexec {sys.executable} "$@" --version {version}\n')
    path.chmod(0o755)
    return path


def test_a_too_old_python_is_refused_before_any_venv(project: Path) -> None:
    old = fake_python(project / "python3.10", "3.10.12")
    result = make(project, "test", f"PY={old}", "INSTALL=true")
    assert result.returncode != 0
    assert "Python 3.10.12" in result.stderr and "make PY=python3.12" in result.stderr
    assert not (project / ".venv").exists()


def test_a_venv_with_a_wrong_python_is_rebuilt(project: Path) -> None:
    # What a failed first install with Python 3.10 left, stamp and all.
    (project / ".venv" / "bin").mkdir(parents=True)
    fake_python(project / ".venv" / "bin" / "python", "3.10.12")
    (project / ".venv" / ".installed").touch()
    result = make(project, ".venv/.installed", f"PY={sys.executable}", "INSTALL=true")
    assert result.returncode == 0, result.stderr
    assert "rebuilding .venv" in result.stdout
    check = [str(project / ".venv" / "bin" / "python"), "scripts/python_ok.py"]
    assert subprocess.run(check, cwd=project).returncode == 0
    # Now good: nothing to do.
    again = make(project, ".venv/.installed", f"PY={sys.executable}", "INSTALL=true")
    assert "is up to date" in again.stdout, again.stdout
