"""Start-up failures as a person meets them (issue 16): the real CLI, run as a process, says
in one line what is wrong and what to change (the variable, the file, the host:port), exits 2
for configuration and 3 for an unreachable dependency, and shows a traceback only with
ACCTSYNC_LOG_LEVEL=DEBUG."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: A closed local port: nothing listens on 1 (never another host).
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/acctsync"


def acctsync(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``acctsync argv`` in ``tmp_path`` with only the given ACCTSYNC_* variables set."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSYNC_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=tmp_path,
        env={**base, "PYTHONPATH": str(ROOT), "ACCTSYNC_LOG_LEVEL": "INFO", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The single line the command printed on stderr, having exited with ``status``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("acctsync: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("argv", [("serve", "--port", "1"), ("db", "upgrade")])
def test_unreachable_postgresql_names_host_port_and_variable(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    line = one_line(acctsync(tmp_path, *argv, ACCTSYNC_DATABASE_URL=UNREACHABLE_PG), 3)
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in line
    assert "ACCTSYNC_DATABASE_URL" in line


def test_unreachable_postgresql_with_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = acctsync(
        tmp_path, "db", "upgrade", ACCTSYNC_DATABASE_URL=UNREACHABLE_PG, ACCTSYNC_LOG_LEVEL="DEBUG"
    )
    assert result.returncode == 3
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("acctsync: cannot reach PostgreSQL")


@pytest.mark.parametrize("argv", [("serve", "--port", "1"), ("db", "upgrade")])
def test_a_corrupt_sqlite_file_is_named(tmp_path: Path, argv: tuple[str, ...]) -> None:
    db = tmp_path / "acctsync.db"
    db.write_bytes(b"this is not a SQLite database, just some bytes\n" * 20)
    line = one_line(acctsync(tmp_path, *argv, ACCTSYNC_DATABASE_URL=f"sqlite+aiosqlite:///{db}"), 2)
    assert f"{db} is not a usable SQLite database" in line
    assert "move it aside" in line and "ACCTSYNC_DATABASE_URL" in line
    assert db.read_bytes().startswith(b"this is not")  # left as it was


def test_a_sqlite_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where a folder should be")
    line = one_line(
        acctsync(
            tmp_path, "serve", "--port", "1", ACCTSYNC_DATABASE_URL="sqlite+aiosqlite:///./var/x.db"
        ),
        2,
    )
    assert "var is a file, not a folder" in line and "ACCTSYNC_DATABASE_URL" in line


def test_role_api_on_sqlite_is_refused(tmp_path: Path) -> None:
    line = one_line(acctsync(tmp_path, "serve", "--port", "1", ACCTSYNC_ROLE="api"), 2)
    assert "ACCTSYNC_ROLE=api needs PostgreSQL" in line
    assert not (tmp_path / "var").exists()  # refused before anything was created


def test_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    line = one_line(acctsync(tmp_path, "worker"), 2)
    assert "acctsync worker needs PostgreSQL" in line and "ACCTSYNC_DATABASE_URL" in line


def test_a_malformed_variable_is_one_line_with_status_2(tmp_path: Path) -> None:
    line = one_line(acctsync(tmp_path, "db", "upgrade", ACCTSYNC_DATABASE_URL="mysql://x"), 2)
    assert "ACCTSYNC_DATABASE_URL" in line


def test_an_unforeseen_failure_is_still_one_line(tmp_path: Path) -> None:
    """A database migrated by another version: alembic cannot find its revision."""
    import sqlite3

    (tmp_path / "var").mkdir()
    with contextlib.closing(sqlite3.connect(tmp_path / "var" / "acctsync.db")) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('f00dfeed')")
        db.commit()
    line = one_line(acctsync(tmp_path, "db", "upgrade"), 1)
    assert "db upgrade failed: CommandError" in line and "'f00dfeed'" in line
    assert "ACCTSYNC_LOG_LEVEL=DEBUG" in line
    debug = acctsync(tmp_path, "db", "upgrade", ACCTSYNC_LOG_LEVEL="DEBUG")
    assert debug.returncode == 1 and "Traceback" in debug.stderr
